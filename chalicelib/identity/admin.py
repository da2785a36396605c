"""What operators change on a person: verified (KYC) and frozen. The money
account changes with the person, in the same transaction, so these only add
the person's side to a transaction that finance builds and commits
(finance/customers.py): identity knows nothing of accounts."""
from chalicelib.db.transact import TaggedTransaction
from chalicelib.db.users import UserItem
from chalicelib.identity import events, sessions
from chalicelib.identity.client import NOBODY


def add_verified(tx: TaggedTransaction, user_id: str, account_id: str) -> None:
    """Tag "user": refused if the person is gone or verified already."""
    tx.update("user", UserItem.ref(user_id), [UserItem.verified.set(True), UserItem.account_id.set(account_id)],
              condition=UserItem.pk.exists() & (UserItem.verified == False))  # noqa: E712


def add_frozen(tx: TaggedTransaction, user_id: str, frozen: bool) -> None:
    """Tags "user" and "event". Freezing also ends every session of the
    person: the live set emptied and the token version bumped, so every
    token stops at once; `after_frozen` brings the session records in line."""
    actions = [UserItem.frozen.set(frozen)]
    if frozen:
        actions += [UserItem.token_version.add(1), UserItem.sessions.remove()]
        tx.save("event", events.record(user_id, "session_ended", NOBODY, reason="frozen"))
    tx.update("user", UserItem.ref(user_id), actions, condition=UserItem.pk.exists())


def after_frozen(user_id: str, frozen: bool, live_ids) -> None:
    """Once the freeze is committed: the records of the sessions that were
    live (`live_ids`, read before it) say they ended."""
    if frozen:
        sessions.end_others(user_id, None, "frozen", live_ids)
