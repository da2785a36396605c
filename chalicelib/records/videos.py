"""Answers about videos: an upload to start, a video's state, and a URL to
play one."""
from enum import Enum

from pydantic import ConfigDict, Field

from chalicelib.records.common import Answer, Id, Time


class VideoStatus(str, Enum):
    pending = "pending"
    ready = "ready"
    rejected = "rejected"


class VideoContentType(str, Enum):
    mp4 = "video/mp4"
    webm = "video/webm"


class Video(Answer):
    """One of the caller's videos and its state. Closed, unlike every other
    answer: nothing may be added that could carry a URL (a video's URL is a
    playback's, short-lived and never stored).

    Attributes:
      id: the video id.
      status: pending until completed, then ready or rejected.
      size_bytes: the declared size of the file.
      content_type: the declared type of the file.
      created_at: when the upload began.
      post_id: the post that carries it, if one does.
    """
    model_config = ConfigDict(extra="forbid")

    id: str = Id
    status: VideoStatus
    size_bytes: int = Field(ge=1)
    content_type: VideoContentType
    created_at: Time
    post_id: str | None = None


class VideoUploadForm(Answer):
    """A presigned POST: send the file as multipart form data.

    Attributes:
      url: where to POST the form.
      fields: the form fields to send before the file, as they are.
    """
    url: str = Field(min_length=1)
    fields: dict[str, str]


class VideoUpload(Answer):
    """An upload begun: where to send the file, until when.

    Attributes:
      id: the video id (complete it once the file is sent).
      upload: the presigned POST.
      expires_at: when the presigned POST stops working.
    """
    id: str = Id
    upload: VideoUploadForm
    expires_at: Time


class VideoPlayback(Answer):
    """A short-lived URL to play a post's video.

    Attributes:
      url: a presigned GET of the video.
      expires_at: when the URL stops working.
    """
    url: str = Field(min_length=1)
    expires_at: Time
