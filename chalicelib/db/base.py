"""What every PynamoDB model of Flock shares: table names and endpoints from
config, the generic `pk`/`sk` keys, and one shared connection for transactions."""
import functools
import random
import time

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.config import settings


def meta(logical: str):
    s = settings()

    class Meta:
        table_name = s.table_name(logical)
        region = s.region
        host = s.dynamodb_endpoint
    return Meta


class Gsi1(GlobalSecondaryIndex):
    """The generic first index of every table (`gsi1_pk` / `gsi1_sk`)."""
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()
    gsi1_pk = UnicodeAttribute(hash_key=True)
    gsi1_sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex):
    """The generic second index (`gsi2_pk` / `gsi2_sk`), where a table has one."""
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()
    gsi2_pk = UnicodeAttribute(hash_key=True)
    gsi2_sk = UnicodeAttribute(range_key=True)


class Gsi3(GlobalSecondaryIndex):
    """The generic third index (`gsi3_pk` / `gsi3_sk`), where a table has one."""
    class Meta:
        index_name = "gsi3"
        projection = AllProjection()
    gsi3_pk = UnicodeAttribute(hash_key=True)
    gsi3_sk = UnicodeAttribute(range_key=True)


class Item(Model):
    """An item of a Flock table: generic string keys."""
    class Meta:
        abstract = True

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)

    @classmethod
    def _get_connection(cls):
        """PynamoDB gives every model its own botocore session and client
        (measured: 22 clients, 4.9 s and 275 MiB in a fresh process); all of
        Flock's models share the one client of `connection()` instead."""
        table_connection = super()._get_connection()
        if table_connection.connection._client is None:
            table_connection.connection._client = botocore_client()
        return table_connection


@functools.lru_cache(maxsize=1)
def connection() -> Connection:
    """The one botocore client of the process, under every model and
    transaction. Transient errors are retried by botocore's standard mode;
    transactions add their own capped loop on top (`transact.commit`)."""
    s = settings()
    return Connection(region=s.region, host=s.dynamodb_endpoint, max_retry_attempts=3, connect_timeout_seconds=5,
                      read_timeout_seconds=10, max_pool_connections=32)


def botocore_client():
    """The botocore client under the transaction connection: for hooks in
    tests and benchmarks (fault injection, request counting)."""
    return connection().client


def register_hook(event_name: str, handler) -> None:
    """Register a botocore event handler on the DynamoDB client Flock uses."""
    botocore_client().meta.events.register(event_name, handler)


def unregister_hook(event_name: str, handler) -> None:
    botocore_client().meta.events.unregister(event_name, handler)


BATCH_GET_KEYS_MAX = 100
BATCH_WRITE_ITEMS_MAX = 25
BATCH_ATTEMPTS_MAX = 8
BACKOFF_BASE_S = 0.01
BACKOFF_CAP_S = 0.2


def _key(pk: str, sk: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def batch_get(logical: str, keys: list[tuple[str, str]], consistent: bool = False) -> list[dict]:
    """Raw items for `keys` (in no particular order), 100 keys per call,
    unprocessed keys retried a bounded number of times."""
    return batch_get_tables({logical: keys}, consistent)[logical]


def batch_get_tables(keys_by_table: dict[str, list[tuple[str, str]]], consistent: bool = False) -> dict[str, list]:
    """As `batch_get`, for several tables in the same calls."""
    client = botocore_client()
    names = {settings().table_name(logical): logical for logical in keys_by_table}
    wanted = [(table, key) for table, logical in names.items() for key in dict.fromkeys(keys_by_table[logical])]
    found: dict[str, list] = {logical: [] for logical in keys_by_table}
    for start in range(0, len(wanted), BATCH_GET_KEYS_MAX):
        request: dict = {}
        for table, (pk, sk) in wanted[start:start + BATCH_GET_KEYS_MAX]:
            request.setdefault(table, {"Keys": [], "ConsistentRead": consistent})["Keys"].append(_key(pk, sk))
        for attempt in range(BATCH_ATTEMPTS_MAX):
            answer = client.batch_get_item(RequestItems=request)
            for table, items in answer.get("Responses", {}).items():
                found[names[table]].extend(items)
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
            backoff(attempt)
        else:
            raise RuntimeError("batch_get: keys left unprocessed")
    return found


def batch_write(logical: str, puts: list = (), deletes: list[tuple[str, str]] = ()) -> int:
    """Put model instances and delete keys, 25 per call; returns the calls made."""
    table = settings().table_name(logical)
    client = botocore_client()
    requests = [{"PutRequest": {"Item": item.serialize()}} for item in puts]
    requests += [{"DeleteRequest": {"Key": _key(pk, sk)}} for pk, sk in dict.fromkeys(deletes)]
    calls = 0
    for start in range(0, len(requests), BATCH_WRITE_ITEMS_MAX):
        pending = {table: requests[start:start + BATCH_WRITE_ITEMS_MAX]}
        for attempt in range(BATCH_ATTEMPTS_MAX):
            calls += 1
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            backoff(attempt)
        else:
            raise RuntimeError("batch_write: items left unprocessed")
    return calls


def backoff(attempt: int) -> None:
    """The one pause before a retry (a transaction, unprocessed batch keys):
    full jitter, so writers that collided do not collide again in step, and
    capped, so the attempts of one request fit well inside its timeout."""
    time.sleep(random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** attempt)))


def key_from_plain(key: dict | None) -> dict | None:
    """A cursor's plain {name: string} key as DynamoDB's ExclusiveStartKey."""
    return {name: {"S": value} for name, value in key.items()} if key else None


def key_to_plain(key: dict | None) -> dict | None:
    """DynamoDB's LastEvaluatedKey (all Flock keys are strings) as a plain dict."""
    return {name: value["S"] for name, value in key.items()} if key else None
