"""The test stacks' cheaper TransactWriteItems rollback (tests/moto_rollback.py)
keeps DynamoDB's all-or-nothing: a cancelled transaction leaves every item
it named, on both kinds of table, as it was; a committed one writes them all."""
import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from moto.dynamodb import models as dynamodb_models
from tests import moto_rollback


@pytest.fixture(autouse=True)
def aws():
    """Overrides the unit suite's `aws`: tables of this module's own."""
    with mock_aws():
        yield


@pytest.fixture
def ddb():
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName="ranged", BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                   {"AttributeName": "sk", "KeyType": "RANGE"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "S"}])
    client.create_table(TableName="plain", BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    client.put_item(TableName="ranged", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "10"}})
    client.put_item(TableName="ranged", Item={"pk": {"S": "a"}, "sk": {"S": "2"}, "n": {"N": "20"}})
    client.put_item(TableName="plain", Item={"pk": {"S": "p"}, "n": {"N": "5"}, "tags": {"SS": ["x"]}})
    client.put_item(TableName="plain", Item={"pk": {"S": "gate"}, "n": {"N": "5"}})
    return client


def everything(client):
    return {name: sorted((str(i) for i in client.scan(TableName=name, ConsistentRead=True)["Items"]))
            for name in ("ranged", "plain")}


def writes(last_condition):
    """A new item, an update and a delete on each table, then a condition
    check that decides whether it all commits."""
    return [
        {"Put": {"TableName": "ranged", "Item": {"pk": {"S": "a"}, "sk": {"S": "3"}, "n": {"N": "30"}}}},
        {"Update": {"TableName": "ranged", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                    "UpdateExpression": "SET n = n + :d", "ExpressionAttributeValues": {":d": {"N": "1"}}}},
        {"Delete": {"TableName": "ranged", "Key": {"pk": {"S": "a"}, "sk": {"S": "2"}}}},
        {"Put": {"TableName": "plain", "Item": {"pk": {"S": "q"}, "n": {"N": "1"}}}},
        {"Update": {"TableName": "plain", "Key": {"pk": {"S": "p"}},
                    "UpdateExpression": "ADD tags :t SET n = :n",
                    "ExpressionAttributeValues": {":t": {"SS": ["y"]}, ":n": {"N": "6"}}}},
        {"ConditionCheck": {"TableName": "plain", "Key": {"pk": {"S": "gate"}},
                            "ConditionExpression": "n = :want",
                            "ExpressionAttributeValues": {":want": {"N": last_condition}}}},
    ]


def test_the_journal_is_installed_in_the_unit_suite():
    assert getattr(dynamodb_models.DynamoDBBackend.transact_write_items, "journalled", False)
    moto_rollback.install()  # a second install changes nothing
    assert dynamodb_models.DynamoDBBackend.transact_write_items.journalled


def test_a_cancelled_transaction_leaves_every_item_as_it_was(ddb):
    before = everything(ddb)
    with pytest.raises(ClientError) as refused:
        ddb.transact_write_items(TransactItems=writes(last_condition="999"))
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in refused.value.response["CancellationReasons"]]
    assert reasons == ["None"] * 5 + ["ConditionalCheckFailed"]
    assert everything(ddb) == before
    # the restored items are live again: a later write to them works as usual
    ddb.update_item(TableName="ranged", Key={"pk": {"S": "a"}, "sk": {"S": "1"}},
                    UpdateExpression="SET n = n + :d", ExpressionAttributeValues={":d": {"N": "5"}})
    got = ddb.get_item(TableName="ranged", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, ConsistentRead=True)
    assert got["Item"]["n"] == {"N": "15"}


def test_a_transaction_naming_one_item_twice_changes_nothing(ddb):
    before = everything(ddb)
    twice = writes(last_condition="5")[:2] + [
        {"Delete": {"TableName": "ranged", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}}}}]
    with pytest.raises(ClientError) as refused:
        ddb.transact_write_items(TransactItems=twice)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert everything(ddb) == before


def test_a_committed_transaction_writes_every_item(ddb):
    ddb.transact_write_items(TransactItems=writes(last_condition="5"))
    ranged = {i["sk"]["S"]: i["n"]["N"] for i in ddb.scan(TableName="ranged", ConsistentRead=True)["Items"]}
    assert ranged == {"1": "11", "3": "30"}
    plain = {i["pk"]["S"]: i for i in ddb.scan(TableName="plain", ConsistentRead=True)["Items"]}
    assert plain["q"]["n"] == {"N": "1"}
    assert plain["p"]["n"] == {"N": "6"} and sorted(plain["p"]["tags"]["SS"]) == ["x", "y"]


def test_a_transaction_on_a_missing_table_is_refused_as_moto_refuses_it(ddb):
    before = everything(ddb)
    with pytest.raises(ClientError) as refused:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "ranged", "Item": {"pk": {"S": "z"}, "sk": {"S": "1"}}}},
            {"Put": {"TableName": "nowhere", "Item": {"pk": {"S": "z"}}}}])
    assert refused.value.response["Error"]["Code"] in ("ResourceNotFoundException", "TransactionCanceledException")
    assert everything(ddb) == before
