"""Flock's web client in a real browser: the social side and the page
itself. Posts, likes, replies, follows and search in Persian; the timeline
by cursor; phone width; markup stays text under the CSP; /docs; the 2FA
step; security; the keyboard alone. axe-core on every screen."""
import re
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import balance, handle, no_axe_violations
from tests.conftest import PASSWORD

def test_post_like_reply_follow_and_search_in_persian(api, pair):
    (alice, a), (bob, b) = pair
    word = "کتاب" + uuid.uuid4().hex[:4]  # Persian kaf; searched below with the Arabic one
    b.go("#/timeline")
    b.page.get_by_label("What's happening?").fill(f"این {word} خوب است")
    b.page.get_by_role("button", name="Post", exact=True).click()
    post = b.page.locator("article").filter(has_text=word)
    expect(post.locator(".post-text")).to_have_attribute("dir", "auto")
    direction = post.locator(".post-text").evaluate("p => getComputedStyle(p).direction")
    assert direction == "rtl"

    a.go(f"#/u/{bob}")
    no_axe_violations(a, "profile")
    a.page.get_by_role("button", name="Follow").click()
    expect(a.page.get_by_role("button", name="Following")).to_have_attribute("aria-pressed", "true")
    a.go("#/timeline")
    post = a.page.locator("article").filter(has_text=word)
    post.get_by_role("button", name=re.compile("^Like")).click()
    expect(post.get_by_role("button", name=re.compile("^Like"))).to_have_text("Like · 1")
    no_axe_violations(a, "timeline")
    post.get_by_role("link", name=re.compile("^Reply")).click()
    a.page.get_by_label("Your reply").fill("Agreed!")
    a.page.get_by_role("button", name="Reply", exact=True).click()
    expect(a.page.get_by_role("region", name="Replies").or_(a.page.locator("[aria-label=Replies]"))
           .get_by_text("Agreed!")).to_be_visible()
    no_axe_violations(a, "post")
    assert api.call("GET", f"/v1/users/{bob}/posts", as_=alice).json()["data"][0]["reply_count"] == 1

    a.go("#/search")
    a.page.get_by_label("Search posts or people").fill(word.replace("ک", "ك"))
    a.page.get_by_role("button", name="Search", exact=True).click()
    expect(a.page.get_by_role("feed", name="Search results").locator("article")).to_have_count(1)
    no_axe_violations(a, "search")
    a.page.get_by_label("Search posts or people").fill(bob[:5])
    a.page.get_by_label("People", exact=True).check()
    a.page.get_by_role("button", name="Search", exact=True).click()
    expect(a.page.get_by_role("link", name=f"@{bob}")).to_be_visible()

    b.go(f"#/u/{bob}")
    b.page.get_by_role("link", name="1 follower").click()
    expect(b.page.get_by_role("link", name=f"@{alice}")).to_be_visible()
    b.go(f"#/u/{bob}")
    post = b.page.locator("article").filter(has_text=word)
    post.get_by_role("button", name="Delete").click()
    post.get_by_role("button", name="Delete for good?").click()
    expect(b.page.locator("article").filter(has_text=word)).to_have_count(0)
    assert all(word not in p["text"] for p in api.call("GET", f"/v1/users/{bob}/posts", as_=alice).json()["data"])

def test_phone_width_every_screen_fits(api, people):
    who = api.verified(handle("ph"))
    api.money("/v1/wallet/deposits", {"amount": 1_000, "currency": "USD"}, as_=who)
    phone = people(width=390, height=844)
    phone.go("#/login")
    for screen in ("#/login", "#/signup"):
        phone.go(screen)
        assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390, screen
    phone.login(who, PASSWORD)
    for screen in ("#/timeline", "#/search?q=x", "#/messages", "#/wallet", "#/pay", "#/statements", f"#/u/{who}"):
        phone.go(screen)
        phone.page.wait_for_load_state("networkidle")
        assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390, screen
        expect(phone.page.get_by_role("navigation", name="Main")).to_be_visible()
    no_axe_violations(phone, "wallet at 390 px")
    phone.page.get_by_role("button", name="Log out").click()
    expect(phone.page.get_by_role("heading", name="Log in to Flock")).to_be_visible()

def test_markup_in_a_post_is_text_and_the_csp_refuses_inline_script(api, pair):
    (alice, a), (bob, _) = pair
    evil = '<img src=x onerror="window.__pwned=1">'
    assert api.call("POST", "/v1/posts", {"text": evil}, as_=bob).status_code == 201
    a.go(f"#/u/{bob}")
    expect(a.page.locator(".post-text").filter(has_text=evil)).to_have_text(evil)
    assert a.page.locator("article img").count() == 0
    assert a.page.evaluate("window.__pwned") is None
    refused = a.page.evaluate("""() => new Promise(resolve => {
        document.addEventListener('securitypolicyviolation', e => resolve(e.violatedDirective), {once: true});
        const s = document.createElement('script');
        s.textContent = 'window.__inline = 1';
        document.body.append(s);
        setTimeout(() => resolve(window.__inline === 1 ? 'ran' : 'no event'), 2000);
    })""")
    assert refused.startswith("script-src"), refused
    assert a.page.evaluate("window.__inline") is None

def test_docs_renders_the_api_and_tries_it_with_the_token_entered_once(api, people):
    who = api.signup(handle("dev"))
    dev = people()
    dev.page.goto("/docs")
    expect(dev.page.locator(".opblock").first).to_be_visible()
    assert dev.page.locator(".opblock").count() >= 50
    dev.page.locator(".auth-wrapper .authorize").click()
    # One box per security scheme: the person's bearer token, and the networks' signatures.
    bearer = dev.page.locator(".modal-ux .auth-container").filter(has_text="(http, Bearer)")
    bearer.locator("input").fill(api.tokens[who])
    bearer.locator("button.authorize").click()
    bearer.locator(".btn-done").click()
    me = dev.page.locator("#operations-identity-get_me")
    me.locator(".opblock-summary").click()
    if me.get_by_role("button", name="Try it out").count():  # tryItOutEnabled may have opened it already
        me.get_by_role("button", name="Try it out").click()
    me.get_by_role("button", name="Execute").click()
    expect(me.locator(".live-responses-table")).to_contain_text(f'"handle": "{who}"')
    # a money route: the example body as it stands, the key typed as "auto", twice: two deposits
    api.admin("POST", f"/v1/admin/users/{who}/verify", {})
    deposit = dev.page.locator("#operations-wallet-deposit")
    deposit.locator(".opblock-summary").click()
    if deposit.get_by_role("button", name="Try it out").count():
        deposit.get_by_role("button", name="Try it out").click()
    deposit.locator("tr[data-param-name='Idempotency-Key'] input").fill("auto")
    for _ in range(2):
        deposit.get_by_role("button", name="Execute").click()
        expect(deposit.locator(".live-responses-table tbody .response-col_status")).to_contain_text("201")
        deposit.get_by_role("button", name="Clear").click()
    assert balance(api, who) == 2 * 2500
    assert dev.foreign_requests() == [] and dev.console_errors == []

def test_the_timeline_scrolls_on_by_cursor(api, pair):
    (alice, a), (bob, _) = pair
    for i in range(24):
        assert api.call("POST", "/v1/posts", {"text": f"post number {i}"}, as_=bob).status_code == 201
    api.call("POST", f"/v1/users/{bob}/follow", as_=alice)
    a.go("#/timeline")
    feed = a.page.get_by_role("feed", name="Timeline")
    expect(feed.locator("article")).to_have_count(20)
    feed.locator("article").last.scroll_into_view_if_needed()
    expect(feed.locator("article")).to_have_count(24)
    expect(feed.get_by_text("post number 0", exact=True)).to_be_visible()

def test_login_asks_for_the_second_factor_when_the_api_says_so(api, people):
    """The 2FA step, with the API's answers played by the browser (the
    person's 2FA is set up elsewhere): login -> {mfa_required, mfa_token} ->
    the code -> POST /v1/auth/mfa -> signed in."""
    who = api.verified(handle("mfa"))
    real = api.call("POST", "/v1/auth/login", {"handle": who, "password": PASSWORD}).json()
    person = people()
    sent = {}
    person.page.route("**/v1/auth/login", lambda route: route.fulfill(
        status=200, content_type="application/json", body='{"mfa_required": true, "mfa_token": "mfa_tok_1"}'))

    def mfa(route):
        sent.update(route.request.post_data_json)
        route.fulfill(status=200, content_type="application/json",
                      body=__import__("json").dumps({"user": real["user"], "token": real["token"]}))
    person.page.route("**/v1/auth/mfa", mfa)
    person.go("#/login")
    person.page.get_by_label("Handle").fill(who)
    person.page.get_by_label("Password").fill(PASSWORD)
    person.page.get_by_role("button", name="Log in").click()
    person.page.get_by_label("Code").fill("123456")
    no_axe_violations(person, "two-step verification")
    person.page.get_by_role("button", name="Verify").click()
    expect(person.page.get_by_role("heading", name="Home")).to_be_visible()
    assert sent == {"mfa_token": "mfa_tok_1", "code": "123456"}

def test_security_screen_changes_the_password(api, pair):
    (alice, a), _ = pair
    a.go(f"#/u/{alice}")
    a.page.get_by_role("link", name=re.compile("^Security")).click()
    a.page.get_by_role("heading", name="Security", exact=True).wait_for()
    no_axe_violations(a, "security")
    form = a.page.get_by_role("form", name="Change password")
    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_label("New password").fill("a much newer password")
    form.get_by_role("button", name="Change password").click()
    expect(a.page.get_by_role("status")).to_contain_text("Password changed")
    assert api.login(alice, "a much newer password").status_code == 200

def test_keyboard_alone_logs_in_posts_and_likes(api, people):
    who = api.verified(handle("kb"))
    person = people()
    page = person.page
    person.go("#/login")
    assert page.evaluate("document.activeElement.id") == "main"  # a new screen puts focus on its content
    page.locator("#skip").focus()  # and the skip link, first on the page, does the same
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "handle"
    page.keyboard.type(who)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Home").wait_for()
    page.get_by_label("What's happening?").focus()
    page.keyboard.type("typed without a mouse")
    for _ in range(4):  # video, price, audience, post
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Post"
    page.keyboard.press("Enter")
    post = page.locator("article").filter(has_text="typed without a mouse")
    post.get_by_role("button", name=re.compile("^Like")).focus()
    page.keyboard.press("Space")
    expect(post.get_by_role("button", name=re.compile("^Like"))).to_have_attribute("aria-pressed", "true")


def test_an_expired_token_is_refreshed_once_and_the_request_retried(api, people):
    """Access tokens are short-lived (API.md): on a 401 the client trades its
    refresh token (single use) for new ones and sends the request again; when
    that fails too, it signs out. The API's refresh is played by the browser."""
    import json
    who = api.verified(handle("rf"))
    real = api.call("POST", "/v1/auth/login", {"handle": who, "password": PASSWORD}).json()
    person = people()
    page = person.page
    page.goto("/#/login")
    page.evaluate("s => localStorage.setItem('flock.session', JSON.stringify(s))",
                  {"token": "expired-token", "refresh_token": "refresh-1", "user": real["user"]})
    refreshed = []

    def refresh(route):
        refreshed.append(route.request.post_data_json)
        route.fulfill(status=200, content_type="application/json",
                      body=json.dumps({"token": real["token"], "refresh_token": "refresh-2"}))
    page.route("**/v1/auth/refresh", refresh)
    person.go("#/wallet")
    expect(page.get_by_test_id("balance")).to_have_text("$0.00")
    assert refreshed[0] == {"refresh_token": "refresh-1"}
    stored = page.evaluate("JSON.parse(localStorage.getItem('flock.session'))")
    assert stored["token"] == real["token"] and stored["refresh_token"] == "refresh-2"

    page.unroute("**/v1/auth/refresh")
    page.route("**/v1/auth/refresh", lambda route: route.fulfill(
        status=401, content_type="application/json",
        body='{"error": {"type": "authentication_error", "code": "unauthenticated", "message": "no", "param": null}}'))
    page.evaluate("s => localStorage.setItem('flock.session', JSON.stringify(s))",
                  {"token": "expired-again", "refresh_token": "refresh-2", "user": real["user"]})
    page.goto("/#/messages")
    expect(page.get_by_role("heading", name="Log in to Flock")).to_be_visible()
    assert page.evaluate("localStorage.getItem('flock.session')") is None
