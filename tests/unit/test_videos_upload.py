"""Uploads (API.md, Videos): a presigned POST whose policy fixes the size and
type, the bytes sent straight to S3, and `complete` deciding ready/rejected
from the object itself."""
import base64
import json

import pytest
from pydantic import ValidationError

from chalicelib import aws
from chalicelib.config import settings
from chalicelib.identity.users import authenticate
from chalicelib.records.videos import Video
from chalicelib.social import videos
from tests.unit.videos_helpers import MP4, NOT_VIDEO, WEBM, complete, offer, ready_video, send


@pytest.fixture
def alice(api):
    api.verified("alice")
    return api


def policy_of(offered) -> dict:
    return json.loads(base64.b64decode(offered["upload"]["fields"]["policy"]))


def refused(r, status, code, param=None):
    assert r.status_code == status, (r.status_code, r.body)
    assert r.json_body["error"]["code"] == code, r.body
    if param is not None:
        assert r.json_body["error"]["param"] == param, r.body


def objects() -> list[str]:
    listed = aws.client("s3").list_objects_v2(Bucket=settings().videos_bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_the_presigned_post_fixes_size_type_key_and_expiry(alice):
    offered = offer(alice, "alice", "video/webm", 123_456)
    assert offered["id"].startswith("vid_") and offered["expires_at"].endswith("Z")
    fields = offered["upload"]["fields"]
    assert fields["key"] == f"uploads/{offered['id']}" and fields["Content-Type"] == "video/webm"
    conditions = policy_of(offered)["conditions"]
    assert ["content-length-range", 123_456, 123_456] in conditions
    assert {"Content-Type": "video/webm"} in conditions
    assert {"bucket": settings().videos_bucket} in conditions
    assert {"key": f"uploads/{offered['id']}"} in conditions
    assert "url" not in json.dumps(alice.call("GET", f"/v1/videos/{offered['id']}", as_="alice").json_body)


@pytest.mark.parametrize("body, param", [
    ({"content_type": "video/mp4", "size_bytes": 500 * 1024 * 1024 + 1}, "size_bytes"),
    ({"content_type": "video/mp4", "size_bytes": 0}, "size_bytes"),
    ({"content_type": "video/mp4", "size_bytes": -5}, "size_bytes"),
    ({"content_type": "video/mp4", "size_bytes": 10**30}, "size_bytes"),
    ({"content_type": "video/mp4", "size_bytes": 12.5}, "size_bytes"),
    ({"content_type": "video/mp4", "size_bytes": "100"}, "size_bytes"),
    ({"content_type": "video/mp4", "size_bytes": True}, "size_bytes"),
    ({"content_type": "video/quicktime", "size_bytes": 100}, "content_type"),
    ({"content_type": "image/png", "size_bytes": 100}, "content_type"),
    ({"size_bytes": 100}, "content_type"),
    ({"content_type": "video/mp4", "size_bytes": 100, "url": "https://x.example"}, "url"),
])
def test_over_the_limit_or_another_type_is_400_and_stores_nothing(alice, body, param):
    refused(alice.call("POST", "/v1/videos", body, as_="alice"), 400, "invalid_request", param)


def test_the_limit_comes_from_config(alice):
    assert settings().video_max_bytes == 500 * 1024 * 1024
    assert offer(alice, "alice", "video/mp4", settings().video_max_bytes)["id"]


def test_a_valid_mp4_and_a_valid_webm_become_ready(alice):
    for data, content_type in ((MP4, "video/mp4"), (WEBM, "video/webm")):
        video_id = ready_video(alice, "alice", data, content_type)
        video = alice.call("GET", f"/v1/videos/{video_id}", as_="alice").json_body
        assert video == {"id": video_id, "status": "ready", "size_bytes": len(data), "content_type": content_type,
                         "created_at": video["created_at"], "post_id": None}
        assert f"videos/{video_id}" in objects() and f"uploads/{video_id}" not in objects()


@pytest.mark.parametrize("declared, data", [
    (len(NOT_VIDEO), NOT_VIDEO),            # not a video
    (len(MP4) - 1, MP4),                    # larger than declared (S3's policy refuses it; moto does not)
    (len(MP4) + 1, MP4),                    # smaller than declared
    (len(MP4), b"ftyp" + b"\x00" * (len(MP4) - 4)),  # ftyp, but not at offset 4
])
def test_bytes_that_are_not_the_declared_video_are_rejected_and_deleted(alice, declared, data):
    offered = offer(alice, "alice", "video/mp4", declared)
    send(offered, data)
    video = complete(alice, "alice", offered["id"])
    assert video["status"] == "rejected"
    assert not [k for k in objects() if offered["id"] in k]


def test_nothing_uploaded_is_rejected_and_complete_answers_the_same_again(alice):
    offered = offer(alice, "alice")
    first = complete(alice, "alice", offered["id"])
    assert first["status"] == "rejected"
    send(offered, MP4)  # too late: the verdict stands (the lifecycle rule cleans the bytes)
    assert complete(alice, "alice", offered["id"]) == first


def test_complete_of_a_ready_video_is_the_same_answer(alice):
    video_id = ready_video(alice, "alice")
    again = complete(alice, "alice", video_id)
    assert again["status"] == "ready" and again["id"] == video_id


def test_another_persons_video_is_not_found(alice):
    alice.verified("mallory")
    video_id = ready_video(alice, "alice")
    for method, path in (("GET", f"/v1/videos/{video_id}"), ("POST", f"/v1/videos/{video_id}/complete")):
        refused(alice.call(method, path, as_="mallory"), 404, "not_found")
    for bad in ("vid_nope", "post_x", "x" * 300, "%00"):
        refused(alice.call("GET", f"/v1/videos/{bad}", as_="alice"), 404, "not_found")


def test_the_services_answer_frozen_records_that_are_what_the_routes_answer(alice):
    principal = authenticate(alice.tokens["alice"])
    upload = videos.create_upload(principal, "video/mp4", len(MP4))
    with pytest.raises(ValidationError):
        upload.id = "vid_another"
    with pytest.raises(ValidationError):
        upload.upload.url = "https://elsewhere.example"
    assert upload.as_json()["upload"]["fields"]["key"] == f"uploads/{upload.id}"
    send(upload.as_json(), MP4)
    done = videos.complete(principal, upload.id)
    assert done.status == "ready" and done.post_id is None
    with pytest.raises(ValidationError):
        done.status = "pending"
    assert done.as_json() == complete(alice, "alice", upload.id)
    assert done.as_json() == alice.call("GET", f"/v1/videos/{upload.id}", as_="alice").json_body
    assert set(done.as_json()) == {"id", "status", "size_bytes", "content_type", "created_at", "post_id"}
    with pytest.raises(ValidationError):  # closed: nothing may be added that could carry a URL
        Video(**done.as_json(), url="https://elsewhere.example")


def test_without_a_token_401(api):
    refused(api.call("POST", "/v1/videos", {"content_type": "video/mp4", "size_bytes": 10}), 401, "unauthenticated")


def test_never_completed_uploads_expire_by_the_buckets_lifecycle_rule(alice):
    rules = aws.client("s3").get_bucket_lifecycle_configuration(Bucket=settings().videos_bucket)["Rules"]
    assert any(r["Filter"].get("Prefix") == "uploads/" and r["Expiration"]["Days"] == 1 and r["Status"] == "Enabled"
               for r in rules)
