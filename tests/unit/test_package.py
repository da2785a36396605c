"""The merge template of the deployable package (infra/template.py), checked
without packaging: `make package lint` builds and lints the real thing."""
import json
import re

import pytest
from chalice import Chalice, Rate
from moto import mock_aws

from chalicelib.db import spec, video_store
from chalicelib.finance.accounts import SYSTEM_ACCOUNTS
from infra import template

SECRET_REF = {"Ref": template.SECRET_ID}
DATA_KEY = {"Fn::GetAtt": [template.DATA_KEY_ID, "Arn"]}
ENVELOPE_KEY = {"Fn::GetAtt": [template.ENVELOPE_KEY_ID, "Arn"]}


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
        assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": DATA_KEY}
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
    assert res["Properties"]["KmsKeyId"] == DATA_KEY
    assert res["DeletionPolicy"] == "Retain"


def test_data_key_is_a_rotated_retained_cmk_the_account_administers(built):
    res = built["Resources"][template.DATA_KEY_ID]
    props = res["Properties"]
    assert res["Type"] == "AWS::KMS::Key"
    assert props["EnableKeyRotation"] is True and props["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert props["PendingWindowInDays"] == 30
    assert res["DeletionPolicy"] == res["UpdateReplacePolicy"] == "Retain"
    statements = {st["Sid"]: st for st in props["KeyPolicy"]["Statement"]}
    account = statements.pop("AccountAdministersAndGrantsThroughIam")
    assert account["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    for sid, st in statements.items():  # anything else: a named service, for named resources only
        assert st["Effect"] == "Allow" and set(st["Principal"]) == {"Service"}, sid
        assert st["Condition"], sid
    for st in props["KeyPolicy"]["Statement"]:
        assert "*" not in json.dumps(st["Principal"]).replace("${AWS::", "")  # no wildcard principal
    alias = built["Resources"][template.DATA_KEY_ID + "Alias"]
    assert alias["Properties"] == {"AliasName": "alias/flock-prod-data-at-rest",
                                   "TargetKeyId": {"Ref": template.DATA_KEY_ID}}


def test_everything_at_rest_is_encrypted_under_the_data_key(built):
    res = built["Resources"]
    for type_, path in (("AWS::DynamoDB::Table", ("SSESpecification", "KMSMasterKeyId")),
                        ("AWS::SQS::Queue", ("KmsMasterKeyId",)),
                        ("AWS::SecretsManager::Secret", ("KmsKeyId",))):
        found = _of_type(built, type_)
        assert found, type_
        for res_id, r in found.items():
            value = r["Properties"]
            for key in path:
                value = value[key]
            assert value == DATA_KEY, res_id
    queues = _of_type(built, "AWS::SQS::Queue")
    assert not any("SqsManagedSseEnabled" in q["Properties"] for q in queues.values())
    for function in template.chalice_functions():
        assert res[function["id"]]["Properties"]["KmsKeyArn"] == DATA_KEY, function["id"]


def test_the_envelope_key_is_its_own_rotated_retained_key(built):
    res = built["Resources"][template.ENVELOPE_KEY_ID]
    assert res["Type"] == "AWS::KMS::Key" and res["Properties"]["EnableKeyRotation"] is True
    assert res["DeletionPolicy"] == "Retain"  # a lost key is every sealed secret lost
    assert built["Resources"][template.ENVELOPE_KEY_ID + "Alias"]["Properties"]["AliasName"] == \
        "alias/flock-prod-envelope"


def test_every_chalice_function_gets_flock_policy_and_prod_env(built, functions):
    assert {"APIHandler", "JobReconcile", "JobExpireHolds"} <= {f["id"] for f in functions}
    for function in functions:
        props = built["Resources"][function["id"]]["Properties"]
        env = props["Environment"]["Variables"]
        assert env["FLOCK_TABLE_PREFIX"] == "flock-prod"
        assert env["FLOCK_SIGNING_KEY_SECRET"] == SECRET_REF
        assert env["FLOCK_KMS_KEY_ID"] == ENVELOPE_KEY
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
            if st["Action"] == list(template.XRAY_ACTIONS):  # X-Ray's writes name no resource
                assert resources == ["*"]
                continue
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
            elif service == "kms" and resources == [ENVELOPE_KEY]:  # the app's own data keys, directly
                assert st["Action"] == sorted(template.ENVELOPE_KEY_ACTIONS)
            elif service == "logs":
                for r in resources:
                    assert f"log-group:/aws/lambda/{function['function_name']}" in r["Fn::Sub"]
            elif service == "sqs":
                for r in resources:
                    assert r["Fn::GetAtt"][0] in built["Resources"]
            elif service == "s3" and st["Sid"] == "CheckImages":  # the API puts and gets objects, nothing more
                assert function["id"] == "APIHandler"
                assert st["Action"] == sorted(template.CHECK_IMAGES_ACTIONS)
                assert resources == [{"Fn::Sub": f"${{{template.CHECK_IMAGES_BUCKET_ID}.Arn}}/*"}]
            elif service == "s3" and st["Sid"] == "FxRatesFile":  # the feed's one object, read only
                assert function["id"] in template.FX_RATES_FUNCTIONS
                assert st["Action"] == ["s3:GetObject"]
                assert resources == [{"Fn::Sub": f"${{{template.FX_RATES_BUCKET_ID}.Arn}}/{template.FX_RATES_KEY}"}]
            elif service == "kms":  # the data key, only through the service that holds the data
                assert resources == [DATA_KEY]
                via = st["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Sub"]
                assert via in {f"{s}.${{AWS::Region}}.amazonaws.com"
                               for s in ("dynamodb", "secretsmanager", "sqs", "s3")}
            elif service == "s3" and st["Sid"].startswith("Videos"):  # the API's object actions, by prefix
                assert function["id"] == "APIHandler"
                (action,) = st["Action"]
                assert [r["Fn::Sub"] for r in resources] == [
                    f"${{{template.VIDEOS_BUCKET_ID}.Arn}}/{prefix}*" for prefix in template.VIDEOS_OBJECT_ACTIONS[action]]
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


def test_api_role_uses_the_data_key_only_through_its_services(built):
    by_sid = {st["Sid"]: st for st in _statements(built, "ApiHandlerRole")}
    assert by_sid.pop("EnvelopeKey")["Resource"] == [ENVELOPE_KEY]  # the app's own envelope key, not the data's
    kms = {sid: st for sid, st in by_sid.items() if st["Action"][0].startswith("kms:")}
    via = {sid: st["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Sub"].split(".")[0] for sid, st in kms.items()}
    assert via == {"DataKeyThroughDynamoDB": "dynamodb", "DataKeyThroughSecretsManager": "secretsmanager",
                   "DataKeyThroughSqs": "sqs", "DataKeyThroughS3": "s3"}
    assert kms["DataKeyThroughS3"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]  # uploads, copies, reads
    assert kms["DataKeyThroughDynamoDB"]["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
    assert kms["DataKeyThroughSecretsManager"]["Action"] == ["kms:Decrypt"]
    assert kms["DataKeyThroughSqs"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]  # it sends to queues
    granted = {a for st in kms.values() for a in st["Action"]}
    assert not granted & {"kms:Encrypt", "kms:CreateGrant", "kms:ReEncryptFrom", "kms:ReEncryptTo",
                          "kms:GenerateDataKeyWithoutPlaintext", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"}


def test_every_log_group_is_kept_a_year_and_encrypted(built, functions):
    res = built["Resources"]
    groups = _of_type(built, "AWS::Logs::LogGroup")
    names = {g["Properties"]["LogGroupName"] for g in groups.values()}
    assert names == {f"/aws/lambda/{f['function_name']}" for f in functions} | {template.ACCESS_LOG_GROUP_NAME}
    for res_id, group in groups.items():
        assert group["Properties"]["RetentionInDays"] >= 365, res_id
        assert group["Properties"]["KmsKeyId"] == DATA_KEY, res_id
        assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Retain", res_id
    for function in functions:  # made before Lambda could make it without retention or key
        group_id = res[function["id"]]["DependsOn"]
        assert group_id == [template.log_group_id(function)]
        assert res[group_id[0]]["Properties"]["LogGroupName"] == f"/aws/lambda/{function['function_name']}"
    (logs,) = [st for st in res[template.DATA_KEY_ID]["Properties"]["KeyPolicy"]["Statement"]
               if st["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}}]
    allowed = logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert sorted(a["Fn::Sub"].rsplit("log-group:", 1)[1] for a in allowed) == sorted(names)


def test_api_is_traced_and_access_logged_without_secrets(built):
    api = built["Resources"][template.REST_API_ID]
    props = api["Properties"]
    assert props["TracingEnabled"] is True
    setting = props["AccessLogSetting"]
    assert setting["DestinationArn"]["Fn::Sub"].endswith(f":log-group:${{{template.ACCESS_LOG_GROUP_ID}}}")
    fields = json.loads(setting["Format"])
    assert {"requestId", "ip", "status", "method", "resourcePath", "xrayTraceId"} <= set(fields)
    assert fields["ip"] == "$context.identity.sourceIp"
    assert "error.message" not in setting["Format"] and "header" not in setting["Format"].lower()
    assert api["DependsOn"] == [template.API_GATEWAY_ACCOUNT_ID]
    account = built["Resources"][template.API_GATEWAY_ACCOUNT_ID]
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": [template.API_GATEWAY_LOGS_ROLE_ID, "Arn"]}
    role = built["Resources"][template.API_GATEWAY_LOGS_ROLE_ID]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}


def test_every_function_has_reserved_concurrency_sized_by_a_parameter_or_one(built, functions):
    res = built["Resources"]
    params = built["Parameters"]
    by_id = {f["id"]: f for f in functions}
    assert res["APIHandler"]["Properties"]["ReservedConcurrentExecutions"] == {"Ref": "APIHandlerConcurrency"}
    for fn_id in ("FanoutWorker", "JobsWorker"):
        ref = {"Ref": f"{fn_id}Concurrency"}
        props = res[fn_id]["Properties"]
        assert props["ReservedConcurrentExecutions"] == ref
        (event,) = [e for e in by_id[fn_id]["events"] if e["type"] == "SQS"]
        # the queue never hands the worker more batches than it may run at once
        assert props["Events"][event["id"]]["Properties"]["ScalingConfig"] == {"MaximumConcurrency": ref}
        assert params[f"{fn_id}Concurrency"]["MinValue"] == 2
    for function in functions:
        scheduled = any(e["type"] == "Schedule" for e in function["events"])
        if scheduled or function["function_name"] == "flock-prod-bootstrap":
            assert res[function["id"]]["Properties"]["ReservedConcurrentExecutions"] == 1, function["id"]
    params = {name: p for name, p in params.items() if name != template.WEB_ORIGIN_PARAMETER}
    assert set(params) == {"APIHandlerConcurrency", "FanoutWorkerConcurrency", "JobsWorkerConcurrency"}
    for p in params.values():
        assert p["Type"] == "Number" and p["MinValue"] <= int(p["Default"]) <= p["MaxValue"]
    reserved = sum(int(p["Default"]) for p in params.values()) + \
        sum(1 for f in functions if not template.concurrency_parameter(f))
    assert reserved <= 1000 - 100  # a region's default limit, less the 100 AWS keeps unreserved


def test_asynchronous_functions_have_an_encrypted_dead_letter_queue(built, functions):
    res = built["Resources"]
    dlq = res[template.ASYNC_DLQ_ID]
    assert dlq["Type"] == "AWS::SQS::Queue" and dlq["Properties"]["KmsMasterKeyId"] == DATA_KEY
    target = {"Fn::GetAtt": [template.ASYNC_DLQ_ID, "Arn"]}
    asynchronous = {f["id"] for f in functions if template.invoked_asynchronously(f)}
    assert asynchronous == {f["id"] for f in functions
                            if any(e["type"] == "Schedule" for e in f["events"])} | {"Bootstrap"}
    for function in functions:
        props = res[function["id"]]["Properties"]
        by_sid = {st["Sid"]: st for st in _statements(built, function["role_id"])}
        if function["id"] in asynchronous:
            assert props["DeadLetterQueue"] == {"Type": "SQS", "TargetArn": target}
            assert by_sid["AsyncDeadLetters"]["Resource"] == [target]
            assert by_sid["AsyncDeadLetters"]["Action"] == ["sqs:SendMessage"]
            assert "kms:GenerateDataKey" in by_sid["DataKeyThroughSqs"]["Action"]
        else:  # API Gateway and SQS's poller invoke synchronously: nothing would reach a DLQ
            assert "DeadLetterQueue" not in props and "AsyncDeadLetters" not in by_sid


def test_checkov_skips_are_few_and_each_says_why(built, functions):
    skipped = {}
    for res_id, res in built["Resources"].items():
        for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert set(skip) == {"id", "comment"} and len(skip["comment"]) > 80, (res_id, skip)
            skipped.setdefault(skip["id"], set()).add(res_id)
    ids = {f["id"] for f in functions}
    synchronous = {f["id"] for f in functions if not template.invoked_asynchronously(f)}
    assert skipped == {
        "CKV_AWS_117": ids,  # no VPC: nothing private to reach
        "CKV_AWS_116": synchronous,  # no Lambda DLQ where nothing invokes asynchronously
        "CKV_AWS_120": {template.REST_API_ID},  # no cache of per-person answers
        # Media: no versions, so no replication; presigned access only; no notifications.
        # Check images: versioned, but no access log bucket, no replication, no notifications either.
        "CKV_AWS_21": {template.VIDEOS_BUCKET_ID},
        "CKV_AWS_144": {template.VIDEOS_BUCKET_ID, template.CHECK_IMAGES_BUCKET_ID, template.FX_RATES_BUCKET_ID},
        "CKV_AWS_18": {template.VIDEOS_BUCKET_ID, template.CHECK_IMAGES_BUCKET_ID, template.FX_RATES_BUCKET_ID},
        "CKV2_AWS_62": {template.VIDEOS_BUCKET_ID, template.CHECK_IMAGES_BUCKET_ID, template.FX_RATES_BUCKET_ID},
    }
    assert synchronous == {"APIHandler", "FanoutWorker", "JobsWorker"}


def test_check_images_bucket_is_private_encrypted_tls_only_and_kept(built, functions):
    res = built["Resources"]
    bucket = res[template.CHECK_IMAGES_BUCKET_ID]
    assert bucket["Type"] == "AWS::S3::Bucket" and bucket["DeletionPolicy"] == "Retain"
    props = bucket["Properties"]
    rule, = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": DATA_KEY}
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True} and \
        len(props["PublicAccessBlockConfiguration"]) == 4
    statement, = res[template.CHECK_IMAGES_BUCKET_ID + "Policy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    for function in functions:
        env = res[function["id"]]["Properties"]["Environment"]["Variables"]
        assert env["FLOCK_CHECK_IMAGES_BUCKET"] == {"Ref": template.CHECK_IMAGES_BUCKET_ID}
        on_images = [st for st in _statements(built, function["role_id"]) if st["Sid"] == "CheckImages"]
        if function["id"] == "APIHandler":
            assert [st["Action"] for st in on_images] == [sorted(template.CHECK_IMAGES_ACTIONS)]
        else:
            assert on_images == []


def test_the_fx_rate_feed_reads_one_object_of_a_private_bucket_the_stack_names(built, functions):
    res = built["Resources"]
    bucket = res[template.FX_RATES_BUCKET_ID]
    assert bucket["Type"] == "AWS::S3::Bucket" and bucket["DeletionPolicy"] == "Retain"
    props = bucket["Properties"]
    rule, = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": DATA_KEY}
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    statement, = res[template.FX_RATES_BUCKET_ID + "Policy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert built["Outputs"]["FxRatesFile"]["Value"] == {
        "Fn::Sub": f"s3://${{{template.FX_RATES_BUCKET_ID}}}/{template.FX_RATES_KEY}"}
    readers = set()
    for function in functions:
        env = res[function["id"]]["Properties"]["Environment"]["Variables"]
        assert (env["FLOCK_FX_RATES_BUCKET"], env["FLOCK_FX_RATES_KEY"]) == (
            {"Ref": template.FX_RATES_BUCKET_ID}, template.FX_RATES_KEY)
        by_sid = {st["Sid"]: st for st in _statements(built, function["role_id"])}
        if "FxRatesFile" in by_sid:
            readers.add(function["id"])
            assert "kms:Decrypt" in by_sid["DataKeyThroughS3"]["Action"]  # the object is under the data key
    # The scheduled job, and the API where an operator runs it; no other function.
    assert readers == {"JobFxRates", "APIHandler"}
    schedule, = [e for e in next(f for f in functions if f["id"] == "JobFxRates")["events"]]
    assert schedule["type"] == "Schedule" and schedule["schedule"] == "cron(30 16 ? * MON-FRI *)"


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
    for role_id in ("WorkerRole", "JobTickRole", "ApiHandlerRole"):  # all send, the worker also receives
        by_sid = {st["Sid"]: st for st in _statements(built, role_id)}
        assert by_sid["DataKeyThroughSqs"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    for queue_id in ("FlockProdWorkQueue", "FlockProdWorkQueueDlq", template.ASYNC_DLQ_ID):
        assert res[queue_id]["Properties"]["KmsMasterKeyId"] == DATA_KEY
    assert res["JobTick"]["Properties"]["DeadLetterQueue"]["TargetArn"] == {
        "Fn::GetAtt": [template.ASYNC_DLQ_ID, "Arn"]}
    assert "DeadLetterQueue" not in res["Worker"]["Properties"]
    assert res["Worker"]["Properties"]["Events"]["WorkerSqsEventSource"]["Properties"]["ScalingConfig"] == {
        "MaximumConcurrency": {"Ref": "WorkerConcurrency"}}
    assert built["Parameters"]["WorkerConcurrency"]["Default"] == str(template.WORKER_CONCURRENCY_DEFAULT)


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


def test_job_functions_get_the_timeouts_their_declarations_give(built, functions):
    from chalicelib.api import function_timeouts
    expected = function_timeouts()
    by_name = {f["function_name"].removeprefix(f"{template.TABLE_PREFIX}-"): f for f in functions}
    for name, timeout in expected.items():
        function = by_name[name]
        assert function["timeout"] == timeout, name
        assert built["Resources"][function["id"]]["Properties"]["Timeout"] == timeout, name
    assert built["Resources"]["JobSubscriptions"]["Properties"]["Timeout"] == 900
    assert built["Resources"]["JobsWorker"]["Properties"]["Timeout"] == 900


def test_the_videos_bucket_is_private_encrypted_tls_only_and_cleans_abandoned_uploads(built, functions):
    bucket = built["Resources"][template.VIDEOS_BUCKET_ID]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain" and "VersioningConfiguration" not in props
    (sse,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": DATA_KEY}
    assert all(props["PublicAccessBlockConfiguration"].values()) and len(props["PublicAccessBlockConfiguration"]) == 4
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["Prefix"] == "uploads/" and rule["ExpirationInDays"] == 1 and rule["Status"] == "Enabled"
    (deny,) = built["Resources"][template.VIDEOS_BUCKET_POLICY_ID]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    for function in functions:
        s3 = {a for st in _statements(built, function["role_id"]) for a in st["Action"]
              if a.startswith("s3:") and st["Sid"] != "FxRatesFile"}  # the feed's one object: its own test
        assert s3 == ({"s3:PutObject", "s3:GetObject", "s3:DeleteObject"} if function["id"] == "APIHandler" else set())
        env = built["Resources"][function["id"]]["Properties"]["Environment"]["Variables"]
        assert env["FLOCK_VIDEOS_BUCKET"] == {"Ref": template.VIDEOS_BUCKET_ID}


def test_the_videos_bucket_takes_upload_posts_from_the_web_clients_origin_only(built):
    (rule,) = built["Resources"][template.VIDEOS_BUCKET_ID]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedMethods"] == ["POST"]
    assert rule["AllowedOrigins"] == [{"Ref": template.WEB_ORIGIN_PARAMETER}]
    assert "AllowedHeaders" not in rule and "ExposedHeaders" not in rule
    assert rule["MaxAge"] == video_store.UPLOAD_PREFLIGHT_MAX_AGE_S
    (local,) = video_store.upload_cors_rules(["https://flock.example"])
    assert (local["AllowedMethods"], local["MaxAgeSeconds"]) == (rule["AllowedMethods"], rule["MaxAge"])
    parameter = built["Parameters"][template.WEB_ORIGIN_PARAMETER]
    assert "Default" not in parameter  # a deploy says where its page is
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.match("https://abc123.execute-api.eu-west-1.amazonaws.com")
    for wrong in ("*", "http://flock.example", "https://flock.example/app", "https://*.example", ""):
        assert not pattern.match(wrong), wrong
