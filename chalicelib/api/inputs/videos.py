"""The request bodies and queries of `chalicelib/api/videos.py`'s routes.

Loaded on the first request that validates one (`chalicelib/lazy.py`):
pydantic is no part of a cold start."""
from typing import Annotated, Literal

from pydantic import Field, StrictInt

from chalicelib.api.schemas import Body

# The configured maximum (FLOCK_VIDEO_MAX_BYTES) is the service's to check;
# the model only keeps the number sane.
SIZE_BYTES_BOUND = 10**12


class VideoBody(Body):
    content_type: Literal["video/mp4", "video/webm"]
    size_bytes: Annotated[StrictInt, Field(ge=1, le=SIZE_BYTES_BOUND)]
