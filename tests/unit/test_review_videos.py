"""Hostile review of videos (API.md, Videos): other people's ids, odd ids,
and two `complete`s of one upload at once."""
import threading

import pytest

from tests.unit.videos_helpers import MP4, complete, offer, ready_video, send



def _code(r):
    return r.status_code, r.json_body["error"]["code"]


@pytest.mark.parametrize("video_id", ["vid_" + "x" * 2000, "x" * 5000, "VIDEO#x", "vid_\u00e9\u0000"])
def test_odd_video_ids_are_not_found(api, video_id):
    api.verified("alice")
    for method, path in (("GET", f"/v1/videos/{video_id}"), ("POST", f"/v1/videos/{video_id}/complete")):
        assert _code(api.call(method, path, as_="alice")) == (404, "not_found")


def test_another_persons_video_is_not_found_and_cannot_be_completed_or_posted(api):
    api.verified("alice")
    api.verified("mallory")
    offered = offer(api, "alice")
    send(offered, MP4)
    for method, path in (("GET", f"/v1/videos/{offered['id']}"), ("POST", f"/v1/videos/{offered['id']}/complete")):
        assert _code(api.call(method, path, as_="mallory")) == (404, "not_found")
    assert complete(api, "alice", offered["id"])["status"] == "ready"
    r = api.call("POST", "/v1/posts", {"text": "mine now", "video_id": offered["id"]}, as_="mallory")
    assert _code(r) == (400, "invalid_request") and r.json_body["error"]["param"] == "video_id"


def test_two_completes_of_one_upload_at_once_both_answer_ready(api, one_request_at_a_time):
    api.verified("alice")
    offered = offer(api, "alice")
    send(offered, MP4)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(
        api.call("POST", f"/v1/videos/{offered['id']}/complete", as_="alice"))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in answers) == [200, 200], [r.body for r in answers]
    assert [r.json_body["status"] for r in answers] == ["ready", "ready"]
    post = api.call("POST", "/v1/posts", {"text": "film", "video_id": offered["id"]}, as_="alice").json_body
    r = api.call("GET", f"/v1/posts/{post['id']}/video", as_="alice")
    assert r.status_code == 200, r.body


def test_a_video_url_is_in_no_post_answer(api):
    api.verified("alice")
    video_id = ready_video(api, "alice")
    post = api.call("POST", "/v1/posts", {"text": "film", "video_id": video_id}, as_="alice")
    assert post.status_code == 201, post.body
    for r in (post, api.call("GET", f"/v1/posts/{post.json_body['id']}", as_="alice"),
              api.call("GET", f"/v1/videos/{video_id}", as_="alice")):
        assert "X-Amz-Signature" not in r.body.decode() and "Signature=" not in r.body.decode()


@pytest.mark.parametrize("when", ["after_the_move", "before_the_move"])
def test_a_second_complete_interleaved_with_the_first_still_answers_ready(api, monkeypatch, when):
    """The first `complete` moves the upload to videos/ and only then records
    `ready`; a second one arriving between finds no upload (after the move)
    or copies an upload already gone (before it). Neither may reject a good
    video nor answer 500."""
    from chalicelib.db import video_store
    api.verified("alice")
    offered = offer(api, "alice")
    send(offered, MP4)
    real_keep = video_store.keep
    second = []

    def interleaved(video_id, content_type):
        if when == "before_the_move" and not second:
            second.append("started")  # both decided ready; the second moves the upload first
            second.append(api.call("POST", f"/v1/videos/{video_id}/complete", as_="alice"))
            real_keep(video_id, content_type)
            return
        real_keep(video_id, content_type)
        if not second:
            second.append("started")
            second.append(api.call("POST", f"/v1/videos/{video_id}/complete", as_="alice"))

    monkeypatch.setattr(video_store, "keep", interleaved)
    first = api.call("POST", f"/v1/videos/{offered['id']}/complete", as_="alice")
    assert first.status_code == 200 and second[1].status_code == 200, (first.body, second[1].body)
    assert (first.json_body["status"], second[1].json_body["status"]) == ("ready", "ready")
    post = api.call("POST", "/v1/posts", {"text": "film", "video_id": offered["id"]}, as_="alice").json_body
    assert api.call("GET", f"/v1/posts/{post['id']}/video", as_="alice").status_code == 200
