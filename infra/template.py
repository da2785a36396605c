"""The CloudFormation resources merged into `chalice package --stage prod`.

`build()` returns a template fragment that `chalice package --merge-template`
deep-merges into the SAM template Chalice generates:

- one `AWS::DynamoDB::Table` per spec of `chalicelib/db/spec.py` (the single
  table spec the local stacks use too), named `flock-prod-<logical>`;
- the token signing key as an `AWS::SecretsManager::Secret`;
- the KMS key that data keys for envelope encryption come from (TOTP
  secrets, card data: chalicelib/crypto/envelope.py), with yearly rotation;
- a hand-written least-privilege policy on every IAM role Chalice generates
  (with `autogen_policy: false` Chalice makes one role per function, so the
  roles are read from Chalice's own application graph of `app.py`, not
  guessed), plus the environment each function needs in prod;
- API Gateway gateway responses that answer with Flock's error object;
- a custom resource that runs the `bootstrap` function once the tables
  exist, so a new stack has its system accounts (chalicelib/bootstrap.py).

Names are built for the prod stage explicitly: nothing here reads the
current process's stage, so importing this under the test stage gives the
same template.
"""
import copy
import importlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from chalicelib.db import spec  # noqa: E402

APP_NAME = "flock"
STAGE = "prod"
TABLE_PREFIX = f"{APP_NAME}-{STAGE}"  # chalicelib.config: table_prefix default f"flock-{stage}"
SIGNING_KEY_SECRET_NAME = f"{APP_NAME}/{STAGE}/token-signing-key"  # chalicelib.config default
SECRET_ID = "TokenSigningKeySecret"
DATA_KEY_ID = "DataKey"  # the KMS key of envelope encryption
DATA_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
REST_API_ID = "RestAPI"  # the AWS::Serverless::Api Chalice generates for the routes

# What Flock's code calls (PynamoDB: get/save/update/delete/query/scan, batch
# get/write, TransactWrite, whose condition checks IAM checks as
# ConditionCheckItem and whose other items as the per-item actions).
# DescribeTable: PynamoDB describes a table when it needs its metadata.
TABLE_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
)
INDEX_ACTIONS = ("dynamodb:Query", "dynamodb:Scan")  # the only actions on a GSI
QUEUE_SEND_ACTIONS = ("sqs:SendMessage",)  # the app is given queue URLs: no GetQueueUrl
QUEUE_CONSUME_ACTIONS = ("sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage")  # Lambda's poller
JSON_CONTENT_TYPE = "'application/json'"  # a literal header value in API Gateway's syntax


def table_name(logical: str) -> str:
    return f"{TABLE_PREFIX}-{logical}"


def table_id(logical: str) -> str:
    """Logical id of a table in the template: `users` -> `UsersTable`."""
    return "".join(part.capitalize() for part in logical.replace("-", "_").split("_")) + "Table"


def queue_id(queue_name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in queue_name.replace("_", "-").split("-") if part) + "Queue"


def _retained(resource: dict) -> dict:
    """Bank data outlives the stack: never deleted by a stack delete or a replacement."""
    return {**resource, "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def table_resource(table: spec.TableSpec) -> dict:
    kwargs = spec.create_table_kwargs(table, table_name(table.logical))
    properties = {
        "TableName": kwargs["TableName"],
        "BillingMode": kwargs["BillingMode"],
        "AttributeDefinitions": kwargs["AttributeDefinitions"],
        "KeySchema": kwargs["KeySchema"],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "DeletionProtectionEnabled": True,
        "Tags": [{"Key": "app", "Value": APP_NAME}, {"Key": "stage", "Value": STAGE}],
    }
    if "GlobalSecondaryIndexes" in kwargs:
        properties["GlobalSecondaryIndexes"] = kwargs["GlobalSecondaryIndexes"]
    if table.ttl_attribute:
        properties["TimeToLiveSpecification"] = {"AttributeName": table.ttl_attribute, "Enabled": True}
    return _retained({"Type": "AWS::DynamoDB::Table", "Properties": properties})


def data_key_resource() -> dict:
    """Only the account's administrators manage the key; the functions may
    only make and open data keys, as their IAM policies grant."""
    return _retained({
        "Type": "AWS::KMS::Key",
        "Properties": {
            "Description": "Flock data keys (envelope encryption of TOTP secrets and card data)",
            "EnableKeyRotation": True,
            "KeySpec": "SYMMETRIC_DEFAULT",
            "KeyUsage": "ENCRYPT_DECRYPT",
            "KeyPolicy": {"Version": "2012-10-17", "Statement": [{
                "Sid": "AccountAdministers", "Effect": "Allow",
                "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                "Action": "kms:*", "Resource": "*"}]},
            "Tags": [{"Key": "app", "Value": APP_NAME}, {"Key": "stage", "Value": STAGE}],
        },
    })


def secret_resource() -> dict:
    return _retained({
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "Name": SIGNING_KEY_SECRET_NAME,
            "Description": "Flock's token signing key (HMAC); at least 32 characters.",
            "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
            "Tags": [{"Key": "app", "Value": APP_NAME}, {"Key": "stage", "Value": STAGE}],
        },
    })


def queue_resources(queue_name: str, lambda_timeout_s: int) -> dict:
    """A queue a `@app.on_sqs_message` handler reads, and its dead-letter
    queue: a message that fails 5 times is parked there (for 14 days) instead
    of being retried until it expires."""
    dlq = {
        "Type": "AWS::SQS::Queue",
        "Properties": {"QueueName": f"{queue_name}-dlq", "SqsManagedSseEnabled": True,
                       "MessageRetentionPeriod": 14 * 24 * 3600},
    }
    queue = {
        "Type": "AWS::SQS::Queue",
        "Properties": {
            "QueueName": queue_name,
            "SqsManagedSseEnabled": True,
            # AWS's advice for a Lambda event source: at least 6x the function timeout.
            "VisibilityTimeout": max(30, 6 * lambda_timeout_s),
            "MessageRetentionPeriod": 4 * 24 * 3600,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [queue_id(queue_name) + "Dlq", "Arn"]},
                              "maxReceiveCount": 5},
        },
    }
    return {queue_id(queue_name): queue, queue_id(queue_name) + "Dlq": dlq}


def queue_env_var(queue_name: str) -> str:
    """The variable that gives the app a queue's URL: `flock-fanout` ->
    `FLOCK_FANOUT_QUEUE_URL` (chalicelib.config reads it)."""
    short = queue_name
    for prefix in (f"{TABLE_PREFIX}-", f"{APP_NAME}-"):
        if short.startswith(prefix):
            short = short[len(prefix):]
            break
    return f"FLOCK_{short.replace('-', '_').upper()}_QUEUE_URL"


def _managed_queues(queues) -> list[str]:
    """Queues named (not given by ARN) by the app: this stack creates them."""
    return [q for q in queues if not q.startswith("arn:")]


def _queue_arn(queue) -> dict | str:
    return queue if queue.startswith("arn:") else {"Fn::GetAtt": [queue_id(queue), "Arn"]}


# --- the Chalice side: which functions and roles `chalice package` generates ---

def load_app():
    """The Chalice app of app.py (imported as `chalice package` imports it)."""
    return importlib.import_module("app").app


def chalice_config(app=None, stage: str = STAGE):
    from chalice.config import Config
    with open(os.path.join(ROOT, ".chalice", "config.json")) as f:
        config_from_disk = json.load(f)
    return Config(
        chalice_stage=stage,
        user_provided_params={"chalice_app": app if app is not None else load_app(), "project_dir": ROOT},
        config_from_disk=config_from_disk,
        default_params={"project_dir": ROOT, "api_gateway_stage": "api", "api_gateway_endpoint_type": "EDGE",
                        "autogen_policy": True},
    )


def chalice_functions(app=None, stage: str = STAGE) -> list[dict]:
    """One entry per Lambda function Chalice generates for `stage`:
    {id, role_id, function_name, events: [{id, type, queue?}]}, in the
    logical ids of Chalice's SAM template."""
    from chalice.deploy import models
    from chalice.deploy.appgraph import ApplicationGraphBuilder
    from chalice.utils import to_cfn_resource_name

    config = chalice_config(app, stage)
    if not config.manage_iam_role:
        raise RuntimeError("the template puts Flock's policy on the roles Chalice manages; keep manage_iam_role")
    application = ApplicationGraphBuilder().build(config, stage)
    functions, seen = {}, set()

    def fn_id(fn):
        return "APIHandler" if fn.resource_name == "api_handler" else to_cfn_resource_name(fn.resource_name)

    def entry(fn):
        key = fn_id(fn)
        if key not in functions:
            functions[key] = {"id": key, "role_id": to_cfn_resource_name(fn.role.resource_name),
                              "function_name": fn.function_name, "timeout": fn.timeout, "events": []}
        return functions[key]

    def walk(model):
        if id(model) in seen:
            return
        seen.add(id(model))
        if isinstance(model, models.LambdaFunction):
            entry(model)
        elif isinstance(model, models.ScheduledEvent):
            entry(model.lambda_function)["events"].append(
                {"id": to_cfn_resource_name(model.resource_name), "type": "Schedule",
                 "schedule": model.schedule_expression})
        elif isinstance(model, models.SQSEventSource):
            queue = model.queue.arn if isinstance(model.queue, models.QueueARN) else model.queue
            entry(model.lambda_function)["events"].append(
                {"id": to_cfn_resource_name(model.resource_name), "type": "SQS", "queue": queue})
        elif isinstance(model, models.FunctionEventSubscriber):
            raise RuntimeError(f"infra/template.py does not grant what a {type(model).__name__} needs yet")
        for dep in model.dependencies():
            walk(dep)

    walk(application)
    return sorted(functions.values(), key=lambda f: f["id"])


# --- IAM, environment, gateway responses ---

def _arn(service: str, resource: str) -> dict:
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"}


def policy_document(function: dict, queues: list) -> dict:
    """What one function may do: Flock's tables and their indexes, the
    signing key, Flock's queues, and its own log group."""
    log_group = f"log-group:/aws/lambda/{function['function_name']}"
    statements = [
        {"Sid": "FlockTables", "Effect": "Allow", "Action": list(TABLE_ACTIONS),
         "Resource": [{"Fn::GetAtt": [table_id(t.logical), "Arn"]} for t in spec.TABLES]},
        {"Sid": "FlockIndexes", "Effect": "Allow", "Action": list(INDEX_ACTIONS),
         "Resource": [{"Fn::Sub": f"${{{table_id(t.logical)}.Arn}}/index/*"} for t in spec.TABLES if t.indexes]},
        {"Sid": "SigningKey", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
         "Resource": [{"Ref": SECRET_ID}]},
        {"Sid": "DataKey", "Effect": "Allow", "Action": list(DATA_KEY_ACTIONS),
         "Resource": [{"Fn::GetAtt": [DATA_KEY_ID, "Arn"]}]},
        {"Sid": "Logs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": [_arn("logs", log_group), _arn("logs", log_group + ":*")]},
    ]
    if queues:
        statements.append({"Sid": "FlockQueuesSend", "Effect": "Allow", "Action": list(QUEUE_SEND_ACTIONS),
                           "Resource": [_queue_arn(q) for q in queues]})
    consumed = sorted({e["queue"] for e in function["events"] if e["type"] == "SQS"})
    if consumed:
        statements.append({"Sid": "FlockQueuesConsume", "Effect": "Allow", "Action": list(QUEUE_CONSUME_ACTIONS),
                           "Resource": [_queue_arn(q) for q in consumed]})
    return {"Version": "2012-10-17", "Statement": statements}


def environment(queues=()) -> dict:
    """Variables every function gets on top of .chalice/config.json's (FLOCK_STAGE)."""
    env = {
        "FLOCK_TABLE_PREFIX": TABLE_PREFIX,
        # The ARN: exact, and it makes the functions wait for the secret.
        "FLOCK_SIGNING_KEY_SECRET": {"Ref": SECRET_ID},
        "FLOCK_KMS_KEY_ID": {"Fn::GetAtt": [DATA_KEY_ID, "Arn"]},
    }
    for queue in _managed_queues(queues):
        # A queue's Ref is its URL. The Ref also makes every function wait
        # for the queue, which Chalice's SQS event (an ARN built from the
        # queue's name) does not.
        env[queue_env_var(queue)] = {"Ref": queue_id(queue)}
    return env


def error_template(type_: str, code: str, message: str) -> str:
    return json.dumps({"error": {"type": type_, "code": code, "message": message, "param": None}})


NOT_FOUND = ("404", "not_found_error", "not_found", "No such path or method.")

# response type -> (status or None to keep API Gateway's, type, code, message).
# Messages are fixed: API Gateway's own ($context.error.message) can echo the
# Authorization header, and a response never echoes request headers.
GATEWAY_RESPONSES = {
    # API Gateway's answer to an unknown path or method (403 by default).
    "MISSING_AUTHENTICATION_TOKEN": NOT_FOUND,
    # Flock's routes use no IAM auth: a signature is only checked (and
    # refused) on an unknown path that carries an Authorization header.
    "INVALID_SIGNATURE": NOT_FOUND,
    "RESOURCE_NOT_FOUND": NOT_FOUND,
    "THROTTLED": ("429", "rate_limit_error", "rate_limited", "Too many requests; try again later."),
    "QUOTA_EXCEEDED": ("429", "rate_limit_error", "rate_limited", "Too many requests; try again later."),
    "ACCESS_DENIED": ("403", "permission_error", "forbidden", "You may not do this."),
    "WAF_FILTERED": ("403", "permission_error", "forbidden", "You may not do this."),
    "REQUEST_TOO_LARGE": ("413", "invalid_request_error", "invalid_request", "The request is too large."),
    "UNSUPPORTED_MEDIA_TYPE": ("415", "invalid_request_error", "invalid_request",
                               "The request's content type is not supported."),
    "INTEGRATION_TIMEOUT": ("504", "api_error", "unavailable",
                            "The service is busy; retry with the same Idempotency-Key."),
    "DEFAULT_4XX": (None, "invalid_request_error", "invalid_request", "The request is invalid."),
    "DEFAULT_5XX": (None, "api_error", "internal_error", "Something went wrong on our side."),
}


def gateway_responses() -> dict:
    """`GatewayResponses` of the AWS::Serverless::Api: SAM writes them into
    the API definition, so they ship in the same deployment as the routes
    (separate AWS::ApiGateway::GatewayResponse resources only take effect
    at the next deployment)."""
    out = {}
    for response_type, (status, type_, code, message) in GATEWAY_RESPONSES.items():
        headers = {"Content-Type": JSON_CONTENT_TYPE}
        if code == "rate_limited":
            headers["Retry-After"] = "'1'"
        response = {"ResponseParameters": {"Headers": headers},
                    "ResponseTemplates": {"application/json": error_template(type_, code, message)}}
        if status is not None:
            response["StatusCode"] = status
        out[response_type] = response
    return out


BOOTSTRAP_ID = "SystemAccounts"


def bootstrap_resource(functions: list[dict]) -> dict | None:
    """Runs on create and on every update whose properties change (a new
    system account), after the tables it writes to; None for an app without
    the bootstrap function."""
    from chalicelib.api import BOOTSTRAP_FUNCTION
    from chalicelib.finance.accounts import SYSTEM_ACCOUNTS
    named = [f for f in functions if f["function_name"] == f"{TABLE_PREFIX}-{BOOTSTRAP_FUNCTION}"]
    if not named:
        return None
    function, = named
    return {"Type": "Custom::FlockSystemAccounts", "DependsOn": sorted(table_id(t.logical) for t in spec.TABLES),
            "Properties": {"ServiceToken": {"Fn::GetAtt": [function["id"], "Arn"]},
                           "SystemAccounts": list(SYSTEM_ACCOUNTS)}}


def build(app=None) -> dict:
    """The merge template for `chalice package --stage prod`."""
    functions = chalice_functions(app)
    queues = sorted({e["queue"] for f in functions for e in f["events"] if e["type"] == "SQS"})
    resources = {table_id(t.logical): table_resource(t) for t in spec.TABLES}
    resources[SECRET_ID] = secret_resource()
    resources[DATA_KEY_ID] = data_key_resource()
    timeout = max((f["timeout"] for f in functions), default=30)
    for queue in _managed_queues(queues):
        resources.update(queue_resources(queue, timeout))
    for function in functions:
        resources[function["role_id"]] = {"Properties": {"Policies": [{
            "PolicyName": f"{function['role_id']}Policy",
            "PolicyDocument": policy_document(function, queues),
        }]}}
        resources[function["id"]] = {"Properties": {"FunctionName": function["function_name"],
                                                    "Environment": {"Variables": environment(queues)}}}
    if any(f["id"] == "APIHandler" for f in functions):
        resources[REST_API_ID] = {"Properties": {"GatewayResponses": gateway_responses()}}
    bootstrap = bootstrap_resource(functions)
    if bootstrap:
        resources[BOOTSTRAP_ID] = bootstrap
    outputs = {
        **{f"{table_id(t.logical)}Name": {"Value": {"Ref": table_id(t.logical)}} for t in spec.TABLES},
        "TokenSigningKeySecretArn": {"Value": {"Ref": SECRET_ID}},
    }
    return {"Resources": resources, "Outputs": outputs}


def write(path: str, app=None) -> dict:
    template = build(app)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(template, f, indent=2, sort_keys=True)
        f.write("\n")
    return copy.deepcopy(template)


if __name__ == "__main__":
    print(json.dumps(build(), indent=2, sort_keys=True))
