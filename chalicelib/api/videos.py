"""Routes of Videos (API.md): uploads by presigned POST, their verdict, and
playback of a post's video by presigned GET."""
from chalice import Blueprint

from chalicelib import http, lazy
from chalicelib.identity.users import authenticate
from chalicelib.social import videos

bp = Blueprint(__name__)
# The request models, and pydantic with them, load on the first request that needs one.
inputs = lazy.module("chalicelib.api.inputs.videos")
route = http.routes(bp, authenticate, inputs)


@route("/v1/videos", methods=["POST"], body="VideoBody", status=201)
def create_video(req):
    """Start a video upload: a presigned POST to send the file to, valid for a while."""
    return videos.create_upload(req.principal, req.data.content_type, req.data.size_bytes)


@route("/v1/videos/{video_id}/complete", methods=["POST"])
def complete_video(req, video_id):
    """Finish an upload: the stored file is checked and the video becomes ready or rejected."""
    return videos.complete(req.principal, video_id)


@route("/v1/videos/{video_id}")
def get_video(req, video_id):
    """One of the caller's videos and its state (never a URL)."""
    return videos.get(req.principal, video_id)


@route("/v1/posts/{post_id}/video")
def play_video(req, post_id):
    """A short-lived URL to play a post's video, for those who see the post unlocked."""
    return videos.playback(req.principal.user_id, post_id)
