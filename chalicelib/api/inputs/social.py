"""The request bodies and queries of `chalicelib/api/social.py`'s routes.

Loaded on the first request that validates one (`chalicelib/lazy.py`):
pydantic is no part of a cold start."""
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictStr

from chalicelib.api import schemas
from chalicelib.api.schemas import Body, Handle, PocketMoneyBody, _nfc_length, _no_control_chars, text_schema
# Shared models the routes name too, so looked up here with the rest.
from chalicelib.api.schemas import Page  # noqa: F401

Text = Annotated[StrictStr, Field(max_length=4000), AfterValidator(_nfc_length(1, 280)),
                 AfterValidator(_no_control_chars), text_schema(1, 280)]
VideoUrl = schemas.HttpsUrl  # no control or invisible characters (U+0000, U+200B, U+202E)


class PostBody(Body):
    text: Text
    reply_to: Annotated[StrictStr, Field(max_length=64)] | None = None
    price: PocketMoneyBody | None = None
    video_url: VideoUrl | None = None
    video_id: Annotated[StrictStr, Field(max_length=64)] | None = None
    audience: Literal["public", "subscribers"] = "public"


class ConversationBody(Body):
    with_: Annotated[Handle, Field(alias="with")]


class MessageBody(Body):
    text: Annotated[StrictStr, Field(max_length=8000), AfterValidator(_nfc_length(1, 2000)),
                    AfterValidator(_no_control_chars), text_schema(1, 2000)]


class SearchQuery(Page):
    q: str = Field(max_length=5000)
    type: Literal["posts", "users"] = "posts"
