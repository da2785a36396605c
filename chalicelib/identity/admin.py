"""What operators change on a person: verified (KYC) and frozen. The money
account changes with the person, in the same transaction, so these only add
the person's side to a transaction that finance builds and commits
(finance/customers.py): identity knows nothing of accounts."""
from chalicelib.db.transact import TaggedTransaction
from chalicelib.db.users import UserItem


def add_verified(tx: TaggedTransaction, user_id: str, account_id: str) -> None:
    """Tag "user": refused if the person is gone or verified already."""
    tx.update("user", UserItem.ref(user_id), [UserItem.verified.set(True), UserItem.account_id.set(account_id)],
              condition=UserItem.pk.exists() & (UserItem.verified == False))  # noqa: E712


def add_frozen(tx: TaggedTransaction, user_id: str, frozen: bool) -> None:
    """Tag "user". Freezing also revokes the person's tokens."""
    actions = [UserItem.frozen.set(frozen)]
    if frozen:
        actions.append(UserItem.token_version.add(1))
    tx.update("user", UserItem.ref(user_id), actions, condition=UserItem.pk.exists())
