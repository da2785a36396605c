"""Videos: uploads straight to private storage, verified on `complete`, and
played only by those who may see the post that carries them.

1. `create_upload` records a pending video and answers a presigned POST for
   exactly the declared size and type (API.md, Videos); the bytes go from
   the client to S3, never through Lambda.
2. `complete` decides once: the object is there, has the declared size and
   starts like an MP4 (`ftyp` at offset 4) or a WebM (EBML 1A 45 DF A3) file
   -> `ready` (moved to videos/); else `rejected` and the upload deleted.
   A decided video answers the same again.
3. `playback` gives whoever may see the post unlocked (social/views.py's
   rule, the one every list applies) a fresh presigned GET, and counts a
   view on a random counter shard: an atomic ADD, so exact under any
   concurrency, and no hot item.

A video object never carries a URL; a playback URL is returned, never stored
or logged.
"""
import secrets
from datetime import timedelta

from pynamodb.exceptions import UpdateError

from chalicelib import clock, errors, ids, lazy
from chalicelib.config import settings
from chalicelib.db import video_store
from chalicelib.db.posts import COUNTER_SHARDS, CounterShard, counter_key
from chalicelib.db.videos import VideoItem, owner_partition, video_key
from chalicelib.social import posts, views

CONTENT_TYPES = ("video/mp4", "video/webm")
MP4_BRAND_BOX = b"ftyp"  # ISO base media: 4-byte box size, then the first box's type
WEBM_EBML = b"\x1a\x45\xdf\xa3"

records = lazy.module("chalicelib.records.videos")


def public_video(video: VideoItem) -> "records.Video":
    return records.Video(id=video.id, status=video.status, size_bytes=int(video.size_bytes),
                         content_type=video.content_type, created_at=video.created_at, post_id=video.post_id)


def create_upload(principal, content_type: str, size_bytes: int) -> "records.VideoUpload":
    s = settings()
    if content_type not in CONTENT_TYPES:
        raise errors.InvalidRequest("content_type is video/mp4 or video/webm.", param="content_type")
    if not 1 <= size_bytes <= s.video_max_bytes:
        raise errors.InvalidRequest(f"size_bytes is 1..{s.video_max_bytes}.", param="size_bytes")
    video_id = ids.new_id("vid")
    now = clock.real_now()  # the POST's signature expires in real time
    VideoItem(*video_key(video_id), id=video_id, owner_id=principal.user_id, status="pending",
              content_type=content_type, size_bytes=size_bytes, created_at=clock.iso(clock.now()),
              gsi1_pk=owner_partition(principal.user_id), gsi1_sk=video_id
              ).save(condition=VideoItem.pk.does_not_exist())
    form = video_store.upload_form(video_id, content_type, size_bytes, s.video_upload_ttl_s)
    return records.VideoUpload(id=video_id, upload=records.VideoUploadForm(url=form["url"], fields=form["fields"]),
                               expires_at=now + timedelta(seconds=s.video_upload_ttl_s))


def _own(principal, video_id: str) -> VideoItem:
    """Another person's video is as absent as a missing one."""
    video = VideoItem.find(video_id)
    if video is None or video.owner_id != principal.user_id:
        raise errors.NotFound("No such video.")
    return video


def get(principal, video_id: str) -> "records.Video":
    return public_video(_own(principal, video_id))


def looks_like_video(start: bytes) -> bool:
    return start[4:8] == MP4_BRAND_BOX or start[:4] == WEBM_EBML


KEPT = "kept"  # verified and moved by a concurrent `complete`: ready, nothing left to move


def _verdict(video: VideoItem) -> str:
    size = video_store.uploaded_size(video.id)
    if size is None and video_store.kept_size(video.id) == int(video.size_bytes):
        return KEPT  # only a `ready` verdict puts an object under videos/
    if size is None or size != int(video.size_bytes):
        return "rejected"
    start = video_store.uploaded_start(video.id)
    if start is None:  # a concurrent `complete` moved or discarded it since its size was read
        return KEPT if video_store.kept_size(video.id) == int(video.size_bytes) else "rejected"
    return "ready" if looks_like_video(start) else "rejected"


def complete(principal, video_id: str) -> "records.Video":
    video = _own(principal, video_id)
    if video.status != "pending":
        return public_video(video)
    status = _verdict(video)
    if status == KEPT:
        status = "ready"
    elif status == "ready":
        video_store.keep(video.id, video.content_type)
    else:
        video_store.discard(video.id)
    try:
        video.update(actions=[VideoItem.status.set(status), VideoItem.completed_at.set(clock.iso(clock.now()))],
                     condition=VideoItem.status == "pending")
    except UpdateError:
        # A concurrent `complete` decided first; both saw the same bytes.
        video = VideoItem.find(video_id)
    return public_video(video)


def playback(viewer_id: str, post_id: str) -> "records.VideoPlayback":
    """A fresh URL for whoever sees the post unlocked; a locked post's video
    is refused (403), a post without a video is not found (404)."""
    post = posts.require(post_id)
    if post.video_id is None:
        raise errors.NotFound("This post has no video.")
    if views.is_locked(post, viewer_id, views.viewer_access([post], viewer_id)):
        raise errors.Forbidden("Unlock the post, or subscribe to its author, to watch its video.")
    ttl_s = settings().video_url_ttl_s
    now = clock.real_now()  # the URL's signature expires in real time, not business time
    url = video_store.playback_url(post.video_id, ttl_s)
    CounterShard(*counter_key(post_id, secrets.randbelow(COUNTER_SHARDS))).update(
        actions=[CounterShard.views.add(1)])
    return records.VideoPlayback(url=url, expires_at=now + timedelta(seconds=ttl_s))
