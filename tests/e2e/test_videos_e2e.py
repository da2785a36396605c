"""Videos over real HTTP, as `make run` serves them: the upload goes as a
multipart form straight to the local S3 (the moto server), `complete`
verifies it, and the post's video plays only for who may watch it."""
import uuid

import httpx

from tests.unit.videos_helpers import MP4, NOT_VIDEO


def _upload(http, handle, data: bytes) -> dict:
    r = http.call("POST", "/v1/videos", {"content_type": "video/mp4", "size_bytes": len(data)}, as_=handle)
    assert r.status_code == 201, r.text
    offered = r.json()
    sent = httpx.post(offered["upload"]["url"], data=offered["upload"]["fields"],
                      files={"file": ("film.mp4", data, "video/mp4")}, timeout=30)
    assert sent.status_code in (200, 201, 204), sent.text
    r = http.call("POST", f"/v1/videos/{offered['id']}/complete", as_=handle)
    assert r.status_code == 200, r.text
    return r.json()


def test_upload_verify_post_and_play_over_http(http):
    alice, bob = http.verified(), http.verified()
    assert _upload(http, alice, NOT_VIDEO)["status"] == "rejected"
    video = _upload(http, alice, MP4)
    assert video["status"] == "ready" and "url" not in video
    r = http.call("POST", "/v1/posts", {"text": f"film {uuid.uuid4().hex[:6]}", "video_id": video["id"],
                                        "price": {"amount": 300, "currency": "USD"}}, as_=alice)
    assert r.status_code == 201, r.text
    post = r.json()
    refused = http.call("GET", f"/v1/posts/{post['id']}/video", as_=bob)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert http.money("/v1/wallet/deposits", {"amount": 1_000, "currency": "USD"}, bob).status_code == 201
    assert http.money(f"/v1/posts/{post['id']}/unlock", None, bob).status_code == 201
    played = http.call("GET", f"/v1/posts/{post['id']}/video", as_=bob)
    assert played.status_code == 200, played.text
    got = httpx.get(played.json()["url"], timeout=30)
    assert got.status_code == 200 and got.content == MP4
    assert http.call("GET", f"/v1/posts/{post['id']}", as_=alice).json()["view_count"] == 1
