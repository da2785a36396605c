"""People as the network shows them: signing up and changing one's name keep
the people search index in step. Identity keeps the person and knows nothing
of search; this is the layer above both, as `fanout` is for timelines."""
from chalicelib import errors, lazy
from chalicelib.db.users import UserItem
from chalicelib.identity import reserved, users
from chalicelib.identity.client import NOBODY, Client
from chalicelib.social import search

records = lazy.module("chalicelib.records.identity")


def create_user(handle: str, password: str, display_name: str | None = None, role: str = "user") -> UserItem:
    user = users.create_user(handle, password, display_name, role)
    search.index_user(user.id, user.handle, user.display_name)
    return user


def signup(handle: str, password: str, display_name: str | None = None, client: Client = NOBODY) -> "records.Session":
    """A person's own signup, signed in at once (a first session): the names
    the bank speaks with are not theirs to take (identity/reserved.py);
    operators are created by `create_user`."""
    if reserved.is_reserved(handle):
        raise errors.HandleTaken("That handle is reserved.", param="handle")
    return users.session(create_user(handle, password, display_name), client)


def update_profile(user_id: str, display_name: str | None = None, bio: str | None = None) -> "records.User":
    user, old_display_name = users.change_profile(user_id, display_name, bio)
    if display_name is not None or bio is not None:
        search.index_user(user.id, user.handle, user.display_name, old_display_name)
    return users.own_user(user)
