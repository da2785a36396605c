"""What the money and fx tests of services share: a person as the routes'
`authenticate` gives them to a service, and the proof that a service's
answer is a frozen record."""
import pydantic
import pytest

from chalicelib.identity import users


def principal(handle: str) -> users.Principal:
    """A verified person, as a service is called with them."""
    user = users.find_by_handle(handle)
    return users.Principal(user_id=user.id, handle=user.handle, role=user.role, verified=bool(user.verified),
                           frozen=bool(user.frozen), account_id=user.account_id)


def assert_frozen(record, field: str, value=None) -> None:
    """Assigning `field` of the record is refused and leaves it as it was."""
    before = record.as_json()
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        setattr(record, field, value)
    assert record.as_json() == before
