"""Two costs of moto's DynamoDB that the test stacks do without, keeping
moto's own answers (tests/unit/test_moto_speedups.py compares them with
moto's, for every type of attribute).

- `Item.project` (moto 5.2) turns the whole item into plain JSON once per
  projected name: the reconcile scan behind every ledger check names 15, so
  each item it read was converted 15 times. Here, once per item.
- The answers of the item operations (GetItem, Query, Scan, ...) go through
  moto's model-driven serializer, which walks botocore's output shapes for
  every attribute of every item. Those answers are DynamoDB JSON already:
  here they are written with `json.dumps`, as moto did before 5.1, binary
  values in base64 as the serializer writes them. Errors and every other
  operation keep moto's serializer.

Profiled on tests/unit/test_money_routes.py (cProfile): projection 5.3 s of an
18.6 s test; moto's serializer 38 s of the module's 112 s."""
import base64
import json

from moto.dynamodb.models import dynamo_type
from moto.dynamodb.models.dynamo_type import Item, find_nested_key, merge_dicts
from moto.dynamodb.responses import DynamoResult

# Operations whose whole answer is items, keys and counts (API reference of each).
ITEM_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                             "TransactGetItems"})


def _project(self, projection_expressions):
    plain = self.to_regular_json()
    result: dict = {}
    for expr in projection_expressions:
        merge_dicts(result, find_nested_key(expr, plain))
    return Item(hash_key=self.hash_key, range_key=self.range_key,
                attrs=dynamo_type.serializer.serialize(result)["M"])


def _binary(value):
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} in an item answer")


def _execute_result(self, context):
    if context.operation_model.name not in ITEM_OPERATIONS or isinstance(self.result, Exception):
        return _execute_result.moto(self, context)
    body = {k: v for k, v in self.result.items() if v is not None}
    return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(body, default=_binary)


def install():
    """Idempotent; affects moto in this process only."""
    if Item.project is not _project:
        install.moto_project = Item.project
        Item.project = _project
    if DynamoResult.execute_result is not _execute_result:
        _execute_result.moto = DynamoResult.execute_result
        DynamoResult.execute_result = _execute_result
