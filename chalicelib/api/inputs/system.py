"""The request bodies and queries of `chalicelib/api/system.py`'s routes.

Loaded on the first request that validates one (`chalicelib/lazy.py`):
pydantic is no part of a cold start."""
from typing import Annotated

from pydantic import Field, StrictInt, StrictStr

from chalicelib.api.schemas import Body, Reason
# Shared models the routes name too, so looked up here with the rest.
from chalicelib.api.schemas import Page  # noqa: F401


class TestClockBody(Body):
    now: StrictStr | None = Field(default=None, max_length=40)
    advance_days: StrictInt | None = Field(default=None, ge=0, le=36600)


class JobBody(Body):
    as_of: StrictStr | None = Field(default=None, max_length=10)


Bps = Annotated[StrictInt, Field(ge=0, le=10_000)]
POCKET_RATES_MAX = 64  # more than the currencies Flock holds


class RatesBody(Body):
    apy_bps: Bps
    overdraft_apr_bps: Bps
    effective_date: Annotated[StrictStr, Field(max_length=10)]
    # Currency -> APY of its pockets (the service refuses unsupported codes); absent: as before.
    pocket_apy_bps: Annotated[dict[Annotated[StrictStr, Field(max_length=16)], Bps],
                              Field(max_length=POCKET_RATES_MAX)] | None = None
    reason: Reason | None = None
