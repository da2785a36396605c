"""The test stacks' cheaper moto (tests/moto_speedups.py) answers what moto's
own does: projections of top-level names, nested map paths, list elements,
names an item lacks and names projected twice; and every item operation's
answer, for every type of attribute."""
import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.responses import DynamoResult

from tests import moto_speedups

ITEM = {
    "pk": {"S": "ACCT#a"}, "sk": {"S": "ACCOUNT"}, "balance": {"N": "-125"}, "kind": {"S": "customer"},
    "legs": {"L": [{"M": {"account_id": {"S": "a"}, "amount": {"N": "5"}}}, {"M": {"amount": {"N": "-5"}}}]},
    "limits": {"M": {"day": {"M": {"sent": {"N": "100"}, "at": {"S": "2026-03-10"}}}, "month": {"N": "7"}}},
    "tags": {"SS": ["b", "a"]}, "flag": {"BOOL": True}, "gone": {"NULL": True}, "blob": {"B": b"\x00\x01"},
}

PROJECTIONS = [
    [["pk"], ["sk"], ["balance"], ["kind"]],
    [["limits", "day", "sent"], ["limits", "month"]],
    [["limits"], ["limits", "day"]],
    [["legs[1]"], ["legs[0]", "amount"]],
    [["missing"], ["limits", "missing"], ["legs[9]"]],
    [["tags"], ["flag"], ["gone"], ["blob"], ["balance"], ["balance"]],
]


@pytest.mark.parametrize("projection", PROJECTIONS, ids=lambda p: ",".join(".".join(e) for e in p))
def test_the_projection_is_moto_own(projection):
    moto_project = getattr(moto_speedups.install, "moto_project", Item.project)
    item = Item(hash_key=None, range_key=None, attrs=ITEM)
    theirs = moto_project(item, projection).to_json()
    ours = moto_speedups._project(item, projection).to_json()
    assert ours == theirs
    assert item.to_json()["Attributes"] == ITEM  # projecting changed nothing of the item




# Item answers written with json.dumps ------------------------------------------------

@pytest.fixture
def aws():
    """Overrides the unit suite's `aws`: a table of this module's own."""
    with mock_aws():
        yield


TYPED = {"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "-12.50"}, "b": {"B": b"\x00\xff\x10"},
         "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [b"\x01", b"\x02\x03"]},
         "l": {"L": [{"S": "é"}, {"N": "3"}, {"B": b"\x07"}, {"NULL": True}]},
         "m": {"M": {"deep": {"M": {"bool": {"BOOL": False}}}, "s": {"S": "🍕"}}}, "null": {"NULL": True}}


def _every_item_operation(client) -> list:
    """The answers a client gets (minus request ids) to each item operation."""
    key = {"pk": {"S": "a"}, "sk": {"S": "1"}}
    answers = [
        client.put_item(TableName="t", Item=TYPED, ReturnValues="ALL_OLD"),
        client.put_item(TableName="t", Item=TYPED, ReturnValues="ALL_OLD", ReturnConsumedCapacity="TOTAL"),
        client.get_item(TableName="t", Key=key, ConsistentRead=True),
        client.get_item(TableName="t", Key={"pk": {"S": "none"}, "sk": {"S": "1"}}),
        client.get_item(TableName="t", Key=key, ProjectionExpression="n, m.deep, l[2]"),
        client.update_item(TableName="t", Key=key, UpdateExpression="ADD n :one", ExpressionAttributeValues={
            ":one": {"N": "1"}}, ReturnValues="ALL_NEW"),
        client.update_item(TableName="t", Key=key, UpdateExpression="SET s = :s", ExpressionAttributeValues={
            ":s": {"S": "x"}}),
        client.query(TableName="t", KeyConditionExpression="pk = :pk", ExpressionAttributeValues={
            ":pk": {"S": "a"}}, Limit=1),
        client.query(TableName="t", KeyConditionExpression="pk = :pk", ExpressionAttributeValues={
            ":pk": {"S": "a"}}, Select="COUNT"),
        client.scan(TableName="t", Segment=0, TotalSegments=1, FilterExpression="attribute_exists(b)"),
        client.batch_get_item(RequestItems={"t": {"Keys": [key, {"pk": {"S": "none"}, "sk": {"S": "1"}}]}}),
        client.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": key}}]),
        client.delete_item(TableName="t", Key=key, ReturnValues="ALL_OLD"),
        client.delete_item(TableName="t", Key=key),
    ]
    for answer in answers:
        answer.pop("ResponseMetadata")
    return answers


def _fresh_table():
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                   {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "S"}])
    client.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "0"}, "b": {"B": b"\x00"}})
    return client


def test_item_answers_are_what_moto_serializer_writes(aws, monkeypatch):
    ours = _every_item_operation(_fresh_table())
    boto3.client("dynamodb", region_name="us-east-1").delete_table(TableName="t")
    monkeypatch.setattr(DynamoResult, "execute_result", moto_speedups._execute_result.moto)
    theirs = _every_item_operation(_fresh_table())
    assert ours == theirs
    assert ours[2]["Item"]["b"] == {"B": b"\x00\xff\x10"} and ours[2]["Item"]["bs"] == {"BS": [b"\x01", b"\x02\x03"]}


def test_errors_keep_moto_serializer(aws):
    client = _fresh_table()
    with pytest.raises(ClientError) as refused:
        client.put_item(TableName="t", Item=TYPED, ConditionExpression="attribute_exists(nothing)",
                        ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_both_installed_in_the_unit_stacks():
    assert Item.project is moto_speedups._project
    assert DynamoResult.execute_result is moto_speedups._execute_result
