"""The merge template of the deployable package (infra/template.py), checked
without packaging: `make package lint` builds and lints the real thing."""
import json

import pytest
from chalice import Chalice, Rate
from moto import mock_aws

from chalicelib.db import spec
from chalicelib.finance.accounts import SYSTEM_ACCOUNTS
from infra import template

SECRET_REF = {"Ref": template.SECRET_ID}


@pytest.fixture(autouse=True)
def aws():
    """Overrides the unit suite's `aws`: still inside moto (nothing here may
    reach AWS), without provisioning a local stack this module never reads."""
    with mock_aws():
        yield


@pytest.fixture(scope="module")
def built():
    return template.build()


@pytest.fixture(scope="module")
def functions():
    return template.chalice_functions()


def _of_type(tpl, type_):
    return {k: v for k, v in tpl["Resources"].items() if v.get("Type") == type_}


def _statements(tpl, role_id):
    (policy,) = tpl["Resources"][role_id]["Properties"]["Policies"]
    return policy["PolicyDocument"]["Statement"]


def test_serialisable_and_deterministic(built):
    assert json.loads(json.dumps(built)) == built == template.build()


def test_every_spec_table_is_a_protected_prod_table(built):
    from chalicelib.config import settings
    assert settings().stage == "dev"  # the tests' stage: the template still names prod tables
    tables = _of_type(built, "AWS::DynamoDB::Table")
    assert set(tables) == {template.table_id(t.logical) for t in spec.TABLES}
    for table in spec.TABLES:
        res = tables[template.table_id(table.logical)]
        props = res["Properties"]
        assert props["TableName"] == f"flock-prod-{table.logical}"
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {"SSEEnabled": True}
        assert props["DeletionProtectionEnabled"] is True
        assert res["DeletionPolicy"] == res["UpdateReplacePolicy"] == "Retain"
        assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"},
                                      {"AttributeName": "sk", "KeyType": "RANGE"}]
        if table.ttl_attribute:
            assert props["TimeToLiveSpecification"] == {"AttributeName": table.ttl_attribute, "Enabled": True}
        else:
            assert "TimeToLiveSpecification" not in props
        gsis = {g["IndexName"]: g for g in props.get("GlobalSecondaryIndexes", [])}
        assert set(gsis) == {i.name for i in table.indexes}
        for index in table.indexes:
            assert gsis[index.name]["KeySchema"] == [{"AttributeName": index.pk, "KeyType": "HASH"},
                                                     {"AttributeName": index.sk, "KeyType": "RANGE"}]
        defined = {a["AttributeName"] for a in props["AttributeDefinitions"]}
        assert defined == {"pk", "sk"} | {a for i in table.indexes for a in (i.pk, i.sk)}
        assert all(a["AttributeType"] == "S" for a in props["AttributeDefinitions"])


def test_signing_key_secret(built):
    res = built["Resources"][template.SECRET_ID]
    assert res["Type"] == "AWS::SecretsManager::Secret"
    assert res["Properties"]["Name"] == "flock/prod/token-signing-key"
    assert res["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32  # keys.signing_key's minimum
    assert "SecretString" not in res["Properties"]
    assert res["DeletionPolicy"] == "Retain"


def test_the_data_key_rotates_and_is_kept(built):
    res = built["Resources"][template.DATA_KEY_ID]
    assert res["Type"] == "AWS::KMS::Key" and res["Properties"]["EnableKeyRotation"] is True
    assert res["DeletionPolicy"] == "Retain"  # a lost key is every sealed secret lost


def test_every_chalice_function_gets_flock_policy_and_prod_env(built, functions):
    assert {"APIHandler", "JobReconcile", "JobExpireHolds"} <= {f["id"] for f in functions}
    for function in functions:
        props = built["Resources"][function["id"]]["Properties"]
        env = props["Environment"]["Variables"]
        assert env["FLOCK_TABLE_PREFIX"] == "flock-prod"
        assert env["FLOCK_SIGNING_KEY_SECRET"] == SECRET_REF
        assert env["FLOCK_KMS_KEY_ID"] == {"Fn::GetAtt": [template.DATA_KEY_ID, "Arn"]}
        assert props["FunctionName"].startswith("flock-prod")
        assert _statements(built, function["role_id"])


def test_scheduled_handlers_are_scheduled_functions(functions):
    from chalice.app import ScheduledEventConfig
    from chalice.utils import to_cfn_resource_name

    from app import app
    names = [s.name for s in app.event_sources if isinstance(s, ScheduledEventConfig)]
    assert {"job_reconcile", "job_expire_holds"} <= set(names)
    by_id = {f["id"]: f for f in functions}
    for name in names:
        assert any(e["type"] == "Schedule" for e in by_id[to_cfn_resource_name(name)]["events"]), name


def _flock_dynamodb_resources():
    tables = [{"Fn::GetAtt": [template.table_id(t.logical), "Arn"]} for t in spec.TABLES]
    indexes = [{"Fn::Sub": "${%s.Arn}/index/*" % template.table_id(t.logical)} for t in spec.TABLES if t.indexes]
    return tables, indexes


def test_policy_names_only_flock_resources(built, functions):
    tables, indexes = _flock_dynamodb_resources()
    for function in functions:
        statements = _statements(built, function["role_id"])
        for st in statements:
            assert st["Effect"] == "Allow"
            assert "NotAction" not in st and "NotResource" not in st
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            assert "*" not in resources
            assert all(not a.endswith("*") for a in st["Action"]), st["Action"]
            services = {a.split(":")[0] for a in st["Action"]}
            assert len(services) == 1, st
            service = services.pop()
            if service == "dynamodb":
                for r in resources:
                    assert r in tables or r in indexes, r
            elif service == "secretsmanager":
                assert st["Action"] == ["secretsmanager:GetSecretValue"]
                assert resources == [SECRET_REF]
            elif service == "kms":
                assert st["Action"] == sorted(template.DATA_KEY_ACTIONS)
                assert resources == [{"Fn::GetAtt": [template.DATA_KEY_ID, "Arn"]}]
            elif service == "logs":
                for r in resources:
                    assert f"log-group:/aws/lambda/{function['function_name']}" in r["Fn::Sub"]
            elif service == "sqs":
                for r in resources:
                    assert r["Fn::GetAtt"][0] in built["Resources"]
            else:
                pytest.fail(f"unexpected service {service}")
        dynamo = [st for st in statements if st["Action"][0].startswith("dynamodb:")]
        granted = {a for st in dynamo for a in st["Action"]}
        assert granted == set(template.TABLE_ACTIONS)
        assert "dynamodb:TransactWriteItems" not in granted  # not an IAM action: IAM checks each item
        table_res = [r for st in dynamo for r in st["Resource"] if "Fn::GetAtt" in r]
        index_res = [r for st in dynamo for r in st["Resource"] if "Fn::Sub" in r]
        assert sorted(map(json.dumps, table_res)) == sorted(map(json.dumps, tables))
        assert sorted(map(json.dumps, index_res)) == sorted(map(json.dumps, indexes))
        for st in dynamo:
            if any("Fn::Sub" in r for r in st["Resource"]):
                assert set(st["Action"]) <= {"dynamodb:Query", "dynamodb:Scan"}


def test_gateway_responses_speak_flock_errors(built):
    responses = built["Resources"][template.REST_API_ID]["Properties"]["GatewayResponses"]
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["StatusCode"] == "404"
    assert json.loads(missing["ResponseTemplates"]["application/json"]) == {"error": {
        "type": "not_found_error", "code": "not_found", "message": "No such path or method.", "param": None}}
    for name in ("DEFAULT_4XX", "DEFAULT_5XX"):
        assert "StatusCode" not in responses[name]  # keep API Gateway's status
    assert json.loads(responses["DEFAULT_4XX"]["ResponseTemplates"]["application/json"])["error"]["type"] \
        == "invalid_request_error"
    err5 = json.loads(responses["DEFAULT_5XX"]["ResponseTemplates"]["application/json"])["error"]
    assert (err5["type"], err5["code"]) == ("api_error", "internal_error")
    for name, response in responses.items():
        assert response["ResponseParameters"]["Headers"]["Content-Type"] == "'application/json'"
        body = response["ResponseTemplates"]["application/json"]
        error = json.loads(body)["error"]
        assert set(error) == {"type", "code", "message", "param"} and error["param"] is None, name
        assert "$" not in body  # nothing of the request (API Gateway's message can echo headers)


def test_queues_of_sqs_handlers_are_created_and_granted():
    app = Chalice(app_name="flock")

    @app.route("/v1/health")
    def health():
        return {}

    @app.schedule(Rate(1, unit=Rate.DAYS), name="job_tick")
    def tick(event):
        return None

    @app.on_sqs_message(queue="flock-prod-work", batch_size=5)
    def worker(event):
        return None

    built = template.build(app)
    res = built["Resources"]
    queue = res["FlockProdWorkQueue"]
    assert queue["Type"] == "AWS::SQS::Queue" and queue["Properties"]["QueueName"] == "flock-prod-work"
    assert queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["FlockProdWorkQueueDlq", "Arn"]}
    assert queue["Properties"]["VisibilityTimeout"] >= 6 * 30
    queue_arn = {"Fn::GetAtt": ["FlockProdWorkQueue", "Arn"]}
    for fn_id, role_id in (("Worker", "WorkerRole"), ("JobTick", "JobTickRole"), ("APIHandler", "ApiHandlerRole")):
        assert res[fn_id]["Properties"]["Environment"]["Variables"]["FLOCK_WORK_QUEUE_URL"] == {
            "Ref": "FlockProdWorkQueue"}
        by_sid = {st["Sid"]: st for st in _statements(built, role_id)}
        assert by_sid["FlockQueuesSend"]["Resource"] == [queue_arn]
        assert ("FlockQueuesConsume" in by_sid) == (fn_id == "Worker")
    consume = {st["Sid"]: st for st in _statements(built, "WorkerRole")}["FlockQueuesConsume"]
    assert consume["Resource"] == [queue_arn]
    assert set(consume["Action"]) == {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}


def test_queue_env_var_names():
    assert template.queue_env_var("flock-fanout") == "FLOCK_FANOUT_QUEUE_URL"
    assert template.queue_env_var("flock-prod-fanout") == "FLOCK_FANOUT_QUEUE_URL"
    assert template.queue_env_var("flock-prod-jobs-segments") == "FLOCK_JOBS_SEGMENTS_QUEUE_URL"


def test_the_stack_creates_its_system_accounts_after_its_tables(built, functions):
    resource = built["Resources"][template.BOOTSTRAP_ID]
    bootstrap, = [f for f in functions if f["function_name"] == "flock-prod-bootstrap"]
    assert resource["Properties"]["ServiceToken"] == {"Fn::GetAtt": [bootstrap["id"], "Arn"]}
    assert set(resource["DependsOn"]) == {template.table_id(t.logical) for t in spec.TABLES}
    assert resource["Properties"]["SystemAccounts"] == list(SYSTEM_ACCOUNTS)
