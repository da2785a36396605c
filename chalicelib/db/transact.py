"""Transactions: items written together or not at all, each named by a tag,
and `commit`, the one way Flock sends them.

DESIGN.md rule 9: a cancelled transaction changed nothing. Conflicts with
another transaction, throttling, server errors and lost connections are
retried with `base.backoff`, a capped number of times. That is safe because
every Flock transaction carries a condition that a resend of an already
committed one fails (an id put only if absent, a status that must still be
pending): callers read that refusal, with the item handed back, as their own
earlier success. A refusal is an answer, never retried — unless the caller
says its build read something stale (`stale`), then it is built afresh.
"""
from botocore.exceptions import BotoCoreError
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import errors
from chalicelib.db import base

ATTEMPTS_MAX = 6
RETRYABLE_CODES = frozenset({"TransactionConflict", "ThrottlingError", "ThrottlingException",
                             "ProvisionedThroughputExceeded", "ProvisionedThroughputExceededException",
                             "RequestLimitExceeded", "InternalServerError", "TransactionInProgressException"})
REFUSED = "ConditionalCheckFailed"
# For requests without an Idempotency-Key (the default message asks for one).
TRY_AGAIN = "The service is busy; try again."


class TaggedTransaction:
    """A PynamoDB TransactWrite that remembers a tag per item.

    PynamoDB sends condition checks, deletes, puts and updates in that order,
    whatever order they were added in; the cancellation reasons follow the
    order sent. `_refusals(exc)` maps them back to the tags given here.
    """
    _ORDER = ("check", "delete", "save", "update")

    def __init__(self):
        self._tx = TransactWrite(connection=base.connection())
        self._tags = {op: [] for op in self._ORDER}

    def save(self, tag, model, condition=None, return_values=None):
        self._tx.save(model, condition=condition, return_values=return_values)
        self._tags["save"].append(tag)

    def update(self, tag, model, actions, condition=None, return_values=None):
        self._tx.update(model, actions=list(actions), condition=condition, return_values=return_values)
        self._tags["update"].append(tag)

    def delete(self, tag, model, condition=None):
        self._tx.delete(model, condition=condition)
        self._tags["delete"].append(tag)

    def check(self, tag, model, condition):
        self._tx.condition_check(type(model), model.pk, model.sk, condition=condition)
        self._tags["check"].append(tag)

    def _send(self) -> None:
        self._tx._commit()

    def _refusals(self, exc: TransactWriteError) -> dict:
        """tag -> reason, for the items whose condition failed. Any other
        cancellation (an invalid update, say) is a fault, not an answer."""
        if exc.cause_response_code != "TransactionCanceledException":
            raise exc
        tags = [tag for op in self._ORDER for tag in self._tags[op]]
        reasons = {tag: r for tag, r in zip(tags, exc.cancellation_reasons) if r is not None}
        if not reasons or any(r.code != REFUSED for r in reasons.values()):
            raise exc
        return reasons


def _retryable(exc: TransactWriteError) -> bool:
    if isinstance(exc.cause, BotoCoreError):
        return True  # timeouts, dropped connections: the write may or may not have landed
    if exc.cause_response_code == "TransactionCanceledException":
        return any(r is not None and r.code in RETRYABLE_CODES for r in exc.cancellation_reasons)
    return exc.cause_response_code in RETRYABLE_CODES


def commit(transaction, attempts_max: int = ATTEMPTS_MAX, stale=(), busy_message: str | None = None) -> dict:
    """Commit `transaction`: a TaggedTransaction, or a function that builds
    one afresh for each attempt (when the build reads, or stamps the time).

    Returns {} once committed, else the refusals: tag -> cancellation reason
    (with the old item where the tag asked for ALL_OLD) of each item whose
    condition failed. Refusals of tags in `stale` alone mean the build read
    something that has changed since: it is built again. `stale` may also be
    a function of the refusals that says so (when only the old item tells a
    lost race from a refusal: a hold changed by another capture, say). Raises Unavailable
    when `attempts_max` attempts were not enough (then nothing was written,
    or a resend will find what was)."""
    for attempt in range(attempts_max):
        tx = transaction() if callable(transaction) else transaction
        try:
            tx._send()
            return {}
        except TransactWriteError as exc:
            if not _retryable(exc):
                refusals = tx._refusals(exc)
                if not (stale(refusals) if callable(stale) else set(refusals) <= set(stale)):
                    return refusals
        base.backoff(attempt)  # the other writer finishes first
    raise errors.Unavailable(busy_message)
