"""The request bodies and queries of `chalicelib/api/checks.py`'s routes.

Loaded on the first request that validates one (`chalicelib/lazy.py`):
pydantic is no part of a cold start."""
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictStr

from chalicelib.api.schemas import Body, Memo, MoneyBody, Payee
# Shared models the routes name too, so looked up here with the rest.
from chalicelib.api.schemas import Page  # noqa: F401
from chalicelib.finance import check_deposits, check_images
from chalicelib.finance.accounts import aba_checksum_ok


def _aba(value: str) -> str:
    if not aba_checksum_ok(value):
        raise ValueError("the routing number fails the ABA checksum")
    return value


Routing = Annotated[StrictStr, Field(pattern=r"^[0-9]{9}$"), AfterValidator(_aba)]
AccountNumber = Annotated[StrictStr, Field(pattern=r"^[0-9]{4,17}$")]
Serial = Annotated[StrictStr, Field(pattern=r"^[0-9]{1,15}$")]
Image = Annotated[StrictStr, Field(min_length=4, max_length=check_images.encoded_chars_max(),
                                   json_schema_extra={"contentEncoding": "base64"}),
                  AfterValidator(check_images.decode)]
EventId = Annotated[StrictStr, Field(min_length=1, max_length=64)]


class CheckBody(MoneyBody):
    payee: Payee
    memo: Memo = ""


class MicrBody(Body):
    routing: Routing
    account: AccountNumber
    serial: Serial


class CheckDepositBody(MoneyBody):
    micr: MicrBody
    front_image: Image
    back_image: Image
    endorsed: StrictBool


class PresentmentBody(MoneyBody):
    id: EventId
    routing: Annotated[StrictStr, Field(pattern=r"^[0-9]{9}$")]  # another bank's number is an answer, not a 400
    account: AccountNumber
    serial: Serial
    payee: Annotated[StrictStr, Field(max_length=200)] | None = None


class CheckReturnBody(Body):
    id: EventId
    deposit_id: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    reason: Literal[check_deposits.RETURN_REASONS]
