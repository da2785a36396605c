"""Flock's web client in a real browser: what people do, screen by screen,
with axe-core run on every screen (no serious or critical violation)."""
import csv
import io
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD


def handle(prefix="u"):
    return prefix + uuid.uuid4().hex[:10]


def no_axe_violations(person, screen):
    violations = person.axe()
    assert violations == [], f"axe on {screen}: {violations}"


def balance(api, who):
    r = api.call("GET", "/v1/wallet", as_=who)
    assert r.status_code == 200, r.text
    return r.json()["balance"]


@pytest.fixture
def pair(api, people):
    """Two verified people at the web client (signed up and in through the
    API; the first test signs up and logs in by hand)."""
    made = []
    for prefix in ("al", "bo"):
        who = api.verified(handle(prefix))
        person = people()
        person.use_session(api.call("POST", "/v1/auth/login", {"handle": who, "password": PASSWORD}).json())
        made.append((who, person))
    return made


def test_two_people_sign_up_and_money_moves_between_them(api, people):
    alice, bob = handle("alice"), handle("bob")
    a, b = people(), people()
    a.go("#/login")
    no_axe_violations(a, "login")
    a.signup(alice, PASSWORD, display_name="Alice")
    b.go("#/signup")
    b.page.get_by_label("Handle").fill(bob)
    b.page.get_by_label("Password").fill("short")
    b.page.get_by_role("button", name="Create account").click()
    error = b.page.locator("[data-param=password] .field-error")  # the API's param names the field
    expect(error).to_contain_text("password")
    expect(b.page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    no_axe_violations(b, "signup (with an error)")
    b.signup(bob, PASSWORD)
    no_axe_violations(b, "timeline (empty)")

    a.go("#/wallet")
    expect(a.page.get_by_role("note")).to_contain_text("verified")  # not yet: the account opens at verification
    for who in (alice, bob):
        assert api.admin("POST", f"/v1/admin/users/{who}/verify", {"reason": "browser test"}).status_code == 200

    a.go("#/wallet")
    deposit = a.page.get_by_role("form", name="Add money from your bank")
    deposit.get_by_label("Amount (USD)").fill("12.3")  # a wrong amount first: the error sits by the field
    deposit.get_by_label("Amount (USD)").fill("1.234")
    deposit.get_by_role("button", name="Deposit").click()
    expect(deposit.locator(".field-error")).to_contain_text("two decimals")
    deposit.get_by_label("Amount (USD)").fill("250.75")
    deposit.get_by_role("button", name="Deposit").click()
    expect(a.page.get_by_test_id("balance")).to_have_text("$250.75")
    no_axe_violations(a, "wallet")

    a.go(f"#/pay?to={bob}")
    send = a.page.get_by_role("form", name="Send money")
    send.get_by_label("Amount (USD)").fill("1000")
    send.get_by_role("button", name="Send", exact=True).click()
    expect(send.locator("[data-param=amount] .field-error")).to_be_visible()  # insufficient funds, by the amount
    send.get_by_label("Amount (USD)").fill("20.05")
    send.get_by_label("Note (optional)").fill("lunch 🍜")
    send.get_by_role("button", name="Send", exact=True).click()
    expect(a.page.get_by_role("status")).to_contain_text("Sent $20.05")
    no_axe_violations(a, "pay")

    b.go("#/wallet")
    expect(b.page.get_by_test_id("balance")).to_have_text("$20.05")
    row = b.page.locator(".entry").filter(has_text="lunch")
    expect(row).to_contain_text("$20.05")
    expect(row.get_by_role("link", name=f"@{alice}")).to_be_visible()
    api.login(alice)
    assert balance(api, alice) == 25075 - 2005
    assert a.foreign_requests() == [] and b.foreign_requests() == []
    assert a.console_errors == [] and b.console_errors == []


def test_a_double_clicked_send_moves_money_once(api, pair):
    (alice, a), (bob, _) = pair
    api.money("/v1/wallet/deposits", {"amount": 10_000, "currency": "USD"}, as_=alice)
    a.go(f"#/pay?to={bob}")
    send = a.page.get_by_role("form", name="Send money")
    send.get_by_label("Amount (USD)").fill("7.00")
    send.get_by_role("button", name="Send", exact=True).dblclick()
    expect(a.page.get_by_role("status")).to_contain_text("Sent $7.00")
    a.page.wait_for_load_state("networkidle")
    assert balance(api, alice) == 10_000 - 700
    assert balance(api, bob) == 700
    # and the same form twice, submitted by the script faster than any button: one request
    a.go(f"#/pay?to={bob}")
    send = a.page.get_by_role("form", name="Send money")
    send.get_by_label("Amount (USD)").fill("1.00")
    send.evaluate("f => { f.requestSubmit(); f.requestSubmit(); }")
    expect(a.page.get_by_role("status")).to_contain_text("Sent $1.00")
    a.page.wait_for_load_state("networkidle")
    assert balance(api, bob) == 800


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


def test_a_paid_post_is_unlocked_and_tipped(api, pair):
    (alice, a), (bob, _) = pair
    api.money("/v1/wallet/deposits", {"amount": 5_000, "currency": "USD"}, as_=alice)
    secret = "The secret ingredient is patience, and a little more salt than you think " + uuid.uuid4().hex[:6]
    created = api.call("POST", "/v1/posts", {"text": secret, "price": {"amount": 199, "currency": "USD"}}, as_=bob)
    assert created.status_code == 201, created.text
    a.go(f"#/post/{created.json()['id']}")
    card = a.page.locator("article").first
    expect(card.locator(".post-text")).not_to_have_text(secret)
    card.get_by_role("button", name="Unlock for $1.99").click()
    card = a.page.locator("article").first
    expect(card.locator(".post-text")).to_have_text(secret)
    expect(card).to_contain_text("unlocked")
    card.get_by_role("button", name="Tip").click()
    card.get_by_label("Tip amount (USD)").fill("0.50")
    card.get_by_role("button", name="Send tip").click()
    expect(a.page.locator("article").first).to_contain_text("Tips $0.50")
    assert balance(api, alice) == 5_000 - 199 - 50


def test_a_conversation_with_a_payment(api, pair):
    (alice, a), (bob, b) = pair
    api.money("/v1/wallet/deposits", {"amount": 3_000, "currency": "USD"}, as_=alice)
    a.go(f"#/u/{bob}")
    a.page.get_by_role("button", name="Message").click()
    a.page.get_by_label("Message", exact=True).fill("سلام! dinner was great")
    a.page.get_by_role("button", name="Send message").click()
    pay = a.page.get_by_role("form", name=f"Pay @{bob}")
    pay.get_by_label("Amount (USD)").fill("15")
    pay.get_by_label("Note (optional)").fill("my half")
    pay.get_by_role("button", name="Send payment").click()
    expect(a.page.locator(".message.mine .payment")).to_have_text("You sent $15.00")
    no_axe_violations(a, "conversation")

    b.go("#/messages")
    no_axe_violations(b, "messages")
    b.page.get_by_role("link", name=re.compile(f"@{alice}")).click()
    expect(b.page.locator(".message.theirs .payment")).to_have_text("Sent you $15.00")
    expect(b.page.locator(".message.theirs p[dir=auto]").first).to_have_text("سلام! dinner was great")
    assert balance(api, bob) == 1500


def test_a_statement_downloads_as_csv(api, pair):
    (alice, a), _ = pair
    api.money("/v1/wallet/deposits", {"amount": 4_321, "currency": "USD"}, as_=alice)
    a.go("#/statements")
    expect(a.page.get_by_role("region", name=re.compile("Statement for"))).to_contain_text("$43.21")
    no_axe_violations(a, "statements")
    with a.page.expect_download() as download:
        a.page.get_by_role("button", name=re.compile("as CSV")).click()
    assert re.fullmatch(r"flock-statement-\d{4}-\d{2}\.csv", download.value.suggested_filename)
    with open(download.value.path(), encoding="utf-8") as f:
        rows = list(csv.reader(io.StringIO(f.read())))
    assert len(rows) >= 2 and any("4321" in cell or "43.21" in cell for row in rows for cell in row), rows


def test_requests_are_paid_and_declined(api, pair):
    (alice, a), (bob, b) = pair
    api.money("/v1/wallet/deposits", {"amount": 2_000, "currency": "USD"}, as_=bob)
    a.go("#/pay")
    ask = a.page.get_by_role("form", name="Request money")
    for n, amount in enumerate(("3.00", "4.00"), start=1):
        ask.get_by_label("From (handle)").fill(bob)
        ask.get_by_label("Amount (USD)").fill(amount)
        ask.get_by_role("button", name="Request").click()
        expect(a.page.get_by_role("status")).to_contain_text(f"${amount}")
        expect(a.page.get_by_role("list", name="Your requests").locator("li")).to_have_count(n)  # re-rendered
        ask = a.page.get_by_role("form", name="Request money")
    b.go("#/pay")
    b.page.get_by_role("button", name="Pay $3.00").click()
    expect(b.page.get_by_role("status")).to_contain_text("Paid $3.00")
    expect(b.page.get_by_role("button", name="Pay $3.00")).to_have_count(0)
    b.page.get_by_role("button", name="Decline").click()
    expect(b.page.get_by_role("status")).to_contain_text("declined")
    assert balance(api, alice) == 300 and balance(api, bob) == 1_700


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
    dev.page.locator(".modal-ux input").fill(api.tokens[who])
    dev.page.locator(".modal-ux button.authorize").click()
    dev.page.locator(".modal-ux .btn-done").click()
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


def test_one_key_per_intent_kept_across_a_step_up_retry(api, pair):
    """A send refused with step_up_required asks for the authenticator code
    and resends under the same Idempotency-Key; the next send has a new one.
    (The API's answers are played by the browser: 2FA is built elsewhere.)"""
    import json
    (alice, a), (bob, _) = pair
    seen = []

    def transfers(route):
        request = route.request
        seen.append((request.headers.get("idempotency-key"), request.headers.get("flock-otp")))
        if len(seen) == 1:
            route.fulfill(status=403, content_type="application/json", body=json.dumps({"error": {
                "type": "permission_error", "code": "step_up_required", "param": None,
                "message": "This payment needs a code from your authenticator app."}}))
            return
        body = request.post_data_json
        route.fulfill(status=201, content_type="application/json", body=json.dumps({
            "id": f"tr_{len(seen)}", "kind": "p2p", "from": alice, "to": body["to"], "amount": body["amount"],
            "currency": "USD", "note": "", "status": "posted", "created_at": "2026-03-10T15:00:00Z"}))
    a.page.route("**/v1/transfers", transfers)
    api.money("/v1/wallet/deposits", {"amount": 1_000, "currency": "USD"}, as_=alice)
    a.go(f"#/pay?to={bob}")
    send = a.page.get_by_role("form", name="Send money")
    send.get_by_label("Amount (USD)").fill("2.00")
    send.get_by_role("button", name="Send", exact=True).click()
    send.get_by_label("Authenticator code").fill("123456")
    no_axe_violations(a, "pay (step-up)")
    send.get_by_role("button", name="Send", exact=True).click()
    expect(a.page.get_by_role("status")).to_contain_text("Sent $2.00")
    a.page.wait_for_function("() => document.getElementById('main').dataset.route.startsWith('#/pay?r=')")
    send = a.page.get_by_role("form", name="Send money")  # the screen after the payment
    send.get_by_label("To (handle)").fill(bob)
    send.get_by_label("Amount (USD)").fill("3.00")
    send.get_by_role("button", name="Send", exact=True).click()
    expect(a.page.get_by_role("status")).to_contain_text("Sent $3.00")
    (key1, otp1), (key2, otp2), (key3, otp3) = seen
    assert key1 == key2 and otp1 is None and otp2 == "123456"
    assert key3 not in (None, key1) and otp3 is None


def test_amounts_are_parsed_and_shown_exactly(people):
    """money.js in the page: text to minor units by splitting at the dot,
    minor units to text with BigInt; no float ever holds an amount."""
    page = people().page
    page.goto("/#/login")
    results = page.evaluate("""async () => {
        const m = await import('/static/money.js');
        const parse = (t) => { try { return m.parseAmount(t); } catch (e) { return 'refused'; } };
        return {
            parsed: ['12.34', '0.1', '0.07', '$1,000', '10000000000', '19.99', '0.29', '۱۲٫۵', '١٢'].map(parse),
            refused: ['', '1.234', '-3', '1e3', '0', '0.00', 'abc', '10000000000.01', '۱.۲۳۴'].map(parse),
            shown: [1234, 5, -250075, 0, 1000000000000, 29].map(n => m.formatMoney(n, 'USD')),
            bps: [450, 5, 1800].map(m.formatBps),
            micros: [m.formatMicros(123456789), m.formatMicros(-1500000)],
        };
    }""")
    # 10^12: the API's largest amount; Persian and Arabic-Indic digits are digits
    assert results["parsed"] == [1234, 10, 7, 100000, 10**12, 1999, 29, 1250, 1200]
    assert set(results["refused"]) == {"refused"}
    assert results["shown"] == ["$12.34", "$0.05", "−$2,500.75", "$0.00", "$10,000,000,000.00", "$0.29"]
    assert results["bps"] == ["4.50%", "0.05%", "18.00%"]
    assert results["micros"] == ["$1.2345", "−$0.0150"]


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


def test_cards_issue_freeze_limits_reveal_and_close(api, pair):
    (alice, a), _ = pair
    if "/v1/cards" not in api.call("GET", "/v1/openapi.json").json()["paths"]:
        a.go("#/cards")
        expect(a.page.get_by_role("note")).to_contain_text("not available")
        pytest.skip("no cards API in this build yet")
    a.go("#/cards")
    no_axe_violations(a, "cards")
    a.page.get_by_label("Label (optional)").fill("groceries")
    a.page.get_by_role("button", name="Issue a card").click()
    number = a.page.locator(".card-number")
    expect(number).to_have_text(re.compile(r"Card number \d{4} \d{4} \d{4} \d{4}"))
    card = a.page.get_by_role("list", name="Your cards").locator("li").first
    expect(card).to_contain_text("groceries")
    card.get_by_role("button", name="Freeze").click()
    card = a.page.get_by_role("list", name="Your cards").locator("li").first
    expect(card.locator(".badge")).to_have_text("frozen")
    card.get_by_role("button", name="Unfreeze").click()
    card = a.page.get_by_role("list", name="Your cards").locator("li").first
    expect(card.locator(".badge")).to_have_text("active")
    card.get_by_text("Limits").click()
    card.get_by_label("A day (USD)").fill("150")
    card.get_by_role("button", name="Save limits").click()
    expect(a.page.get_by_role("status")).to_contain_text("Limits saved")
    card = a.page.get_by_role("list", name="Your cards").locator("li").first
    card.get_by_text("Show the number").click()
    card.get_by_label("Your password").fill(PASSWORD)
    card.get_by_role("button", name="Reveal number").click()
    expect(card.locator(".card-number")).to_have_text(re.compile(r"\d{4} \d{4} \d{4} \d{4}"))
    no_axe_violations(a, "cards (revealed)")
    card.get_by_role("button", name="Close card").click()
    card.get_by_role("button", name="Yes, close it for good").click()
    card = a.page.get_by_role("list", name="Your cards").locator("li").first
    expect(card.locator(".badge")).to_have_text("closed")


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
    for _ in range(3):  # price, audience, post
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Post"
    page.keyboard.press("Enter")
    post = page.locator("article").filter(has_text="typed without a mouse")
    post.get_by_role("button", name=re.compile("^Like")).focus()
    page.keyboard.press("Space")
    expect(post.get_by_role("button", name=re.compile("^Like"))).to_have_attribute("aria-pressed", "true")
