"""Videos: the record of each upload, in the posts table, and where its bytes
live in the videos bucket.

Item kinds (pk / sk):
  VIDEO#<video_id>      VIDEO             a video: owner, declared type and size, status
                                          (pending -> ready | rejected), and once a post
                                          carries it, that post's id (one post per video);
                                          gsi1 VIDOWNER#<owner_id> / <video_id> lists a
                                          person's videos

Object keys in the bucket:
  uploads/<video_id>    what the presigned POST writes; a lifecycle rule deletes
                        whatever is still here a day later (never completed)
  videos/<video_id>     a ready video, moved out of uploads/ by `complete`
"""
from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.db.base import Gsi1, Item, meta

VIDEO_PREFIX = "VIDEO#"
VIDEO_SORT_KEY = "VIDEO"
UPLOADS_PREFIX = "uploads/"
READY_PREFIX = "videos/"
ID_CHARS_MAX = 64


def video_key(video_id: str) -> tuple[str, str]:
    return f"{VIDEO_PREFIX}{video_id}", VIDEO_SORT_KEY


def owner_partition(owner_id: str) -> str:
    return f"VIDOWNER#{owner_id}"


def upload_object_key(video_id: str) -> str:
    return f"{UPLOADS_PREFIX}{video_id}"


def ready_object_key(video_id: str) -> str:
    return f"{READY_PREFIX}{video_id}"


class VideoItem(Item):
    """Attributes:
      status: pending (upload offered), ready (verified bytes in videos/), rejected (bytes deleted).
      post_id: the post that carries it; None until one does.
      completed_at: when `complete` decided; None while pending.
    """
    Meta = meta("posts")
    id = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    status = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size_bytes = NumberAttribute()
    created_at = UnicodeAttribute()
    completed_at = UnicodeAttribute(null=True)
    post_id = UnicodeAttribute(null=True)
    gsi1_pk = UnicodeAttribute()
    gsi1_sk = UnicodeAttribute()
    by_owner = Gsi1()

    @classmethod
    def ref(cls, video_id: str) -> "VideoItem":
        return cls(*video_key(video_id))

    @classmethod
    def find(cls, video_id: str) -> "VideoItem | None":
        if not video_id.startswith("vid_") or len(video_id) > ID_CHARS_MAX:
            return None
        try:
            return cls.get(*video_key(video_id), consistent_read=True)
        except cls.DoesNotExist:
            return None
