"""A cheaper rollback for moto's TransactWriteItems, for the in-process
stacks of the tests.

moto backs up every table a transaction touches with `copy.deepcopy(table)`
before applying it, so each transaction costs as much as copying the whole
table: in the unit suite that copy was about half of all the time spent
(profiled: 595 transactions of test_identity.py, 116 s of 252 s). Flock
keeps one table for most things, so the cost grows with everything a test
has written.

`install()` keeps moto's own transaction logic (conditions, validation,
cancellation reasons) and replaces only the backup: a copy of the items
the transaction names (at most 100), put back if moto rolls back. The
result is the same all-or-nothing write, which
tests/unit/test_moto_rollback.py checks against moto's own behaviour."""
import copy
import threading

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_state = threading.local()


class _CopyUnlessTable:
    """Stands in for the `copy` module inside moto.dynamodb.models: while a
    journalled transaction runs, its whole-table backup is a no-op (the
    journal is the backup); everything else is copied as before."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(obj, memo=None):
        if isinstance(obj, Table) and getattr(_state, "journalling", False):
            return obj
        return copy.deepcopy(obj, memo)


def _journal(backend, transact_items):
    """(table, hash, range, a copy of the item or None) for every item the
    transaction names, and each streamed table's record count."""
    entries, streams = [], {}
    for transact_item in transact_items:
        op_type, op = next(iter(transact_item.items()))
        table = backend.get_table(op["TableName"])
        key = op["Item"] if op_type == "Put" else op["Key"]
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        current = table.get_item(hash_value, range_value)
        entries.append((table, hash_value, range_value, copy.deepcopy(current)))
        if table.stream_shard is not None:
            streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))
    return entries, streams


def _roll_back(entries, streams):
    for table, hash_value, range_value, original in entries:
        if range_value is not None:
            if original is None:
                table.items[hash_value].pop(range_value, None)
            else:
                table.items[hash_value][range_value] = original
        elif original is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = original
    for shard, count in streams.values():
        del shard.items[count:]


def install():
    """Idempotent; affects moto in this process only."""
    backend_class = dynamodb_models.DynamoDBBackend
    if getattr(backend_class.transact_write_items, "journalled", False):
        return
    moto_transact = backend_class.transact_write_items
    dynamodb_models.copy = _CopyUnlessTable()

    def transact_write_items(self, transact_items):
        try:
            journal = _journal(self, transact_items)
        except Exception:  # noqa: BLE001 - a malformed request: moto's own path refuses it
            return moto_transact(self, transact_items)
        _state.journalling = True
        try:
            return moto_transact(self, transact_items)
        except Exception:
            _roll_back(*journal)
            raise
        finally:
            _state.journalling = False

    transact_write_items.journalled = True
    backend_class.transact_write_items = transact_write_items
