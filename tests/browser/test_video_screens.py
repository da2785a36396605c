"""Paid videos in a real browser (API.md, Videos): a file chosen in compose
goes from the page straight to the local S3 (moto) by the presigned POST,
with its progress shown; Flock checks it; the post carries it with a price.
Another person sees it locked, unlocks it and plays it from a presigned GET
that moto answers. What fails says why, next to the file input. axe-core on
every screen."""
import os
import re
import struct
import uuid

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import FAILURES, balance, no_axe_violations

SCREENSHOTS = os.path.dirname(FAILURES)


def tiny_mp4(padding: int = 300) -> bytes:
    """A few hundred bytes that start like an MP4: an `ftyp` box, then a
    `free` box of zeros (what Flock's check reads; no browser can decode it)."""
    ftyp = struct.pack(">I", 24) + b"ftypisom" + struct.pack(">I", 0x200) + b"isomiso2"
    return ftyp + struct.pack(">I", 8 + padding) + b"free" + bytes(padding)


# What the page announces (the live region) and the upload's progress, as it happens.
WATCH = """() => {
  window.said = []; window.progress = [];
  new MutationObserver(() => window.said.push(document.getElementById('status').textContent))
    .observe(document.getElementById('status'), {childList: true, characterData: true, subtree: true});
  new MutationObserver((records) => records.forEach((r) => r.target.tagName === 'PROGRESS' &&
    r.target.getAttribute('aria-valuetext') && window.progress.push(r.target.getAttribute('aria-valuetext'))))
    .observe(document.getElementById('main'), {attributes: true, subtree: true, attributeFilter: ['aria-valuetext']});
}"""


def attach(person, name, mime, data):
    person.page.get_by_label("Video (optional, MP4 or WebM)").set_input_files(
        {"name": name, "mimeType": mime, "buffer": data})


def compose(person, text, price=None):
    person.page.get_by_label("What's happening?").fill(text)
    if price:
        person.page.get_by_label("Price to unlock (optional, USD)").fill(price)
    person.page.get_by_role("button", name="Post", exact=True).click()


def test_a_video_is_uploaded_posted_with_a_price_unlocked_and_played(api, pair, stack):
    (alice, a), (bob, b) = pair
    api.money("/v1/wallet/deposits", {"amount": 5_000, "currency": "USD"}, as_=alice)
    moto = stack["moto"]
    video = tiny_mp4()
    text = "My first paid video " + uuid.uuid4().hex[:6]

    uploads = []
    b.page.on("request", lambda r: r.url.startswith(moto) and r.method == "POST" and uploads.append(r.url))
    b.go("#/timeline")
    b.page.evaluate(WATCH)
    attach(b, "first.mp4", "video/mp4", video)
    no_axe_violations(b, "compose with a video chosen")
    os.makedirs(SCREENSHOTS, exist_ok=True)
    b.page.screenshot(path=os.path.join(SCREENSHOTS, "video-compose.png"))
    compose(b, text, price="1.50")
    mine = b.page.locator("article").filter(has_text=text)
    expect(mine.get_by_role("button", name="Play video")).to_be_visible()
    expect(mine).to_contain_text("0 views")
    said, progress = b.page.evaluate("[window.said, window.progress]")
    assert said[:3] == ["Uploading the video.", "Video uploaded.", "Posted."], said
    assert progress and progress[-1] == "100% uploaded", progress
    assert len(uploads) == 1, "the file went to storage once, by the presigned POST"
    assert b.page.get_by_label("Video (optional, MP4 or WebM)").input_value() == ""  # the form is ready for the next

    posted = api.call("GET", f"/v1/users/{bob}/posts", as_=bob).json()["data"][0]
    assert posted["has_video"] and posted["price"] == {"amount": 150, "currency": "USD"}
    stored = api.call("GET", f"/v1/videos/{posted['video_id']}", as_=bob).json()
    assert stored["status"] == "ready" and stored["size_bytes"] == len(video)

    a.go(f"#/post/{posted['id']}")
    card = a.page.locator("article").first
    expect(card).to_contain_text("Video: unlock the post to watch it.")
    expect(card.get_by_role("button", name="Play video")).to_have_count(0)
    no_axe_violations(a, "a locked post with a video")
    card.get_by_role("button", name="Unlock for $1.50").click()
    card = a.page.locator("article").first
    expect(card.locator(".post-text")).to_have_text(text)

    media = []
    a.page.on("response", lambda r: r.url.startswith(moto) and media.append(r))
    card.get_by_role("button", name="Play video").press("Enter")  # the keyboard alone plays it
    player = card.locator("video")
    expect(player).to_have_attribute("src", re.compile("^" + re.escape(moto) + "/"))
    expect(player).to_be_focused()
    src = player.get_attribute("src")
    expect(card).to_contain_text("1 view")
    for _ in range(100):  # the browser's own request for the media, after the src is set
        if any(r.url == src for r in media):
            break
        a.page.wait_for_timeout(100)
    played = [r for r in media if r.url == src]
    assert played and played[0].status in (200, 206), [(r.url[:60], r.status) for r in media]
    fetched = httpx.get(src)
    assert fetched.status_code == 200 and fetched.content == video
    no_axe_violations(a, "a playing video")
    a.page.screenshot(path=os.path.join(SCREENSHOTS, "video-unlocked.png"), full_page=True)
    assert balance(api, alice) == 5_000 - 150
    assert api.call("GET", f"/v1/posts/{posted['id']}", as_=bob).json()["view_count"] == 1
    assert a.foreign_requests() and all(u.startswith(moto) for u in a.foreign_requests())


def test_a_file_that_is_not_a_video_says_why_and_posts_nothing(api, pair):
    (_, _), (bob, b) = pair
    b.go("#/timeline")
    text = "Not a video " + uuid.uuid4().hex[:6]
    attach(b, "notes.txt", "text/plain", b"hello")
    compose(b, text)
    field = b.page.locator('[data-param="video_id"]')
    expect(field.locator(".field-error")).to_have_text("Choose an MP4 or WebM video.")
    expect(b.page.get_by_label("Video (optional, MP4 or WebM)")).to_be_focused()

    attach(b, "fake.mp4", "video/mp4", b"this is text pretending to be a video" * 10)
    b.page.get_by_role("button", name="Post", exact=True).click()
    expect(field.locator(".field-error")).to_contain_text("not an MP4 or WebM video")
    no_axe_violations(b, "compose with a rejected video")
    assert all(p["text"] != text for p in api.call("GET", f"/v1/users/{bob}/posts", as_=bob).json()["data"])


def test_a_failed_upload_says_so_plainly_and_a_retry_posts(api, pair, stack):
    (_, _), (bob, b) = pair
    b.go("#/timeline")
    text = "Second try " + uuid.uuid4().hex[:6]
    b.page.route(stack["moto"] + "/**", lambda route: route.abort())
    attach(b, "clip.webm", "video/webm", b"\x1a\x45\xdf\xa3" + bytes(200))
    compose(b, text)
    error = b.page.locator('[data-param="video_id"] .field-error')
    expect(error).to_contain_text("the connection to storage failed")
    expect(b.page.locator("article").filter(has_text=text)).to_have_count(0)
    b.page.unroute(stack["moto"] + "/**")
    b.page.get_by_role("button", name="Post", exact=True).click()
    expect(b.page.locator("article").filter(has_text=text).get_by_role("button", name="Play video")).to_be_visible()
    expect(error).to_be_hidden()


def test_a_refused_playback_says_why(api, pair):
    (alice, a), (bob, _) = pair
    created = api.call("POST", "/v1/posts", {"text": "Members' corner " + uuid.uuid4().hex[:6],
                                             "audience": "subscribers"}, as_=bob)
    assert created.status_code == 201, created.text
    # Without a video the lock is the post's own; a post with one that the
    # screen still shows unlocked (a lapsed subscription) hears the 403's reason.
    post = created.json() | {"has_video": True, "locked": False, "view_count": 0}
    a.page.route(re.compile(r".*/v1/posts/[^/]+$"), lambda route: route.fulfill(json=post))
    a.page.route(re.compile(r".*/v1/posts/[^/]+/video$"), lambda route: route.fulfill(
        status=403, json={"error": {"type": "forbidden", "code": "forbidden", "message": "No.", "param": None}}))
    a.go(f"#/post/{post['id']}")
    card = a.page.locator("article").first
    card.get_by_role("button", name="Play video").click()
    expect(card).to_contain_text(f"Only subscribers of @{bob} can watch this video: subscribe first.")
    expect(card.locator("video")).to_have_count(0)
