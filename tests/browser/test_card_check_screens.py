"""The Cards and Checks screens in a real browser, against the real API.

Cards: a card issued through the page (its number shown once, then hidden
for good), a purchase the card network authorizes and clears (signed here
with the secret the dev server was provisioned with) seen with its
cashback, a decline in plain words, the reveal asking for the password
and, with 2FA on, a code. Checks: a check written (its number and MICR
line) and stopped, a check deposited from two tiny PNG photos with its
holds, and the refusals in plain words. axe-core on every screen; a
screenshot of each is left in build/browser-screens/ to look at."""
import json
import os
import re
import struct
import time
import uuid
import zlib

import boto3
import pyotp
import pytest
from playwright.sync_api import expect

from chalicelib.config import settings
from chalicelib.identity import network_auth
from tests.browser.conftest import balance, handle, no_axe_violations
from tests.conftest import PASSWORD, ROOT

SCREENS = os.path.join(ROOT, "build", "browser-screens")
OTHER_BANK = "021000021"  # a routing number with a valid ABA checksum that is not Flock's
SHOP = {"name": "Corner Café", "mcc": "5411", "city": "Portland", "country": "US"}


def screenshot(person, name):
    os.makedirs(SCREENS, exist_ok=True)
    person.page.screenshot(path=os.path.join(SCREENS, f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def card_network(stack):
    """`card_network(path, body)`: a call from the card network, signed as it
    signs with the secret the dev server's provisioning put in the local
    Secrets Manager (scripts/localstack.py `provision`)."""
    secrets = boto3.client("secretsmanager", endpoint_url=stack["moto"], region_name=settings().region,
                           aws_access_key_id="testing", aws_secret_access_key="testing")
    secret = secrets.get_secret_value(SecretId=settings().network_secret_ids["card"])["SecretString"]

    def call(api, path, body):
        raw = json.dumps(body).encode()
        r = api.http.post(path, content=raw, headers={"Content-Type": "application/json",
                                                      "Flock-Signature": network_auth.sign(secret, raw)})
        assert r.status_code == 200, r.text
        return r.json()
    return call


def png(seed: str) -> bytes:
    """A valid 1x1 PNG, made unique by a text chunk (a photo deposited before is a duplicate)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"tEXt", b"Comment\x00" + seed.encode()) + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
            + chunk(b"IEND", b""))


def cards_list(person):
    return person.page.get_by_role("list", name="Your cards")


def issue_card(person, label):
    person.go("#/cards")
    person.page.get_by_label("Label (optional)").fill(label)
    person.page.get_by_role("button", name="Issue a card").click()
    box = person.page.get_by_role("region", name="Your new card")
    expect(box).to_contain_text("shown only now")
    number = box.locator(".card-number").inner_text().replace("Card number", "").replace(" ", "").strip()
    cvc = box.locator(".card-cvc").inner_text().split()[1]
    assert len(number) == 16 and number.isdigit() and len(cvc) == 3
    return number, cvc, box


def test_a_card_is_issued_shown_once_and_hidden(api, pair):
    (_, a), _ = pair
    a.go("#/cards")
    no_axe_violations(a, "cards (none yet)")
    number, cvc, box = issue_card(a, "groceries")
    expect(box).to_be_focused()  # read out at once
    expect(cards_list(a).get_by_role("listitem")).to_have_count(1)
    expect(cards_list(a)).to_contain_text(f"•••• {number[-4:]}")
    expect(cards_list(a)).to_contain_text("groceries")
    expect(cards_list(a)).not_to_contain_text(number)  # the list never shows it
    no_axe_violations(a, "cards (new card shown)")
    screenshot(a, "cards-new-card")
    box.get_by_role("button", name="Hide").click()
    expect(a.page.locator(".card-number")).to_have_count(0)
    assert number not in a.page.content() and f"CVC {cvc}" not in a.page.content()
    expect(a.page.get_by_role("button", name="Issue a card")).to_be_focused()

    # revealed with the password; a wrong one is said at the field
    card = cards_list(a).get_by_role("listitem").first
    card.get_by_text("Show the number").click()
    card.get_by_label("Your password").fill("not my password")
    card.get_by_role("button", name="Reveal number").click()
    expect(card.locator("[data-param=password] .field-error")).to_have_text("That password is not right.")
    card.get_by_label("Your password").fill(PASSWORD)
    card.get_by_role("button", name="Reveal number").click()
    expect(card.locator(".card-number")).to_have_text(f"Card number {number[:4]} {number[4:8]} {number[8:12]} {number[12:]}")
    # leaving the screen takes it out of the page; back again, it is not there
    a.go("#/wallet")
    assert number not in a.page.content()
    a.go("#/cards")
    expect(cards_list(a).get_by_role("listitem")).to_have_count(1)
    assert number not in a.page.content()
    assert a.console_errors == [] and a.foreign_requests() == []


def test_a_purchase_shows_with_its_cashback_and_a_decline_in_plain_words(api, pair, card_network):
    (alice, a), _ = pair
    api.money("/v1/wallet/deposits", {"amount": 10_000, "currency": "USD"}, as_=alice)
    number, cvc, _ = issue_card(a, "everyday")
    card_id = cards_list(a).get_by_role("listitem").first.get_attribute("data-card-id")
    exp = api.call("GET", f"/v1/cards/{card_id}", as_=alice).json()
    on_card = {"card_number": number, "exp_month": exp["exp_month"], "exp_year": exp["exp_year"], "cvc": cvc}
    decision = card_network(api, "/v1/network/card-authorizations", {
        "id": f"evt_{uuid.uuid4().hex}", **on_card, "amount": 2_500, "currency": "USD", "merchant": SHOP})
    assert decision["approved"] is True
    cleared = card_network(api, "/v1/network/card-clearings", {
        "id": f"evt_{uuid.uuid4().hex}", "authorization_id": decision["authorization_id"], "amount": 2_500,
        "currency": "USD"})
    assert cleared["status"] == "posted" and cleared["cashback"] == 25
    declined = card_network(api, "/v1/network/card-authorizations", {
        "id": f"evt_{uuid.uuid4().hex}", **on_card, "amount": 900_000, "currency": "USD",
        "merchant": {**SHOP, "name": "Big Telly Store"}})
    assert declined["decline_reason"] == "insufficient_funds"
    assert balance(api, alice) == 10_000 - 2_500 + 25

    a.go("#/cards")
    card = cards_list(a).get_by_role("listitem").first
    card.get_by_text("Transactions").click()
    rows = card.get_by_role("list", name=f"Transactions of card {number[-4:]}").get_by_role("listitem")
    expect(rows).to_have_count(2)
    paid = rows.filter(has_text="Corner Café")
    expect(paid).to_contain_text("Paid")
    expect(paid).to_contain_text("$25.00")
    expect(paid).to_contain_text("$0.25 cashback")
    expect(paid).to_contain_text("Portland, US")
    refused = rows.filter(has_text="Big Telly Store")
    expect(refused).to_contain_text("Declined: there was not enough money in your account")
    expect(refused).to_contain_text("No money moved")
    no_axe_violations(a, "cards (transactions)")
    screenshot(a, "cards-transactions")

    # frozen, the card says so; closing asks first and can be taken back
    card.get_by_role("button", name="Freeze").click()
    card = cards_list(a).get_by_role("listitem").first
    expect(card.locator(".card-meta .badge")).to_have_text("frozen")
    card.get_by_role("button", name="Close card").click()
    expect(card.get_by_role("group", name=f"Close card {number[-4:]}?")).to_contain_text("final")
    card.get_by_role("button", name="Keep it").click()
    expect(card.get_by_role("button", name="Close card")).to_be_focused()
    card.get_by_role("button", name="Close card").click()
    card.get_by_role("button", name="Yes, close it for good").click()
    card = cards_list(a).get_by_role("listitem").first
    expect(card.locator(".card-meta .badge")).to_have_text("closed")
    expect(card.get_by_role("button", name="Unfreeze")).to_have_count(0)


def test_a_reveal_with_2fa_on_asks_for_a_code(api, pair):
    (alice, a), _ = pair
    number, _, box = issue_card(a, "travel")
    box.get_by_role("button", name="Hide").click()
    secret = api.call("POST", "/v1/me/2fa/totp", as_=alice).json()["secret"]
    totp = pyotp.TOTP(secret)
    # confirmed with the previous step's code (±1 step is accepted), so the current one is still unused
    r = api.call("POST", "/v1/me/2fa/totp/confirm", {"code": totp.at(time.time() - 30)}, as_=alice)
    assert r.status_code == 200, r.text
    card = cards_list(a).get_by_role("listitem").first
    card.get_by_text("Show the number").click()
    card.get_by_label("Your password").fill(PASSWORD)
    card.get_by_role("button", name="Reveal number").click()
    code = card.get_by_label("Authenticator code")
    expect(code).to_be_visible()
    expect(card).to_contain_text("Showing the card number needs a code")
    no_axe_violations(a, "cards (reveal asks for a code)")
    code.fill(totp.now())
    card.get_by_label("Your password").fill(PASSWORD)
    card.get_by_role("button", name="Reveal number").click()
    expect(card.locator(".card-number")).to_contain_text(number[-4:])


def test_a_check_is_written_and_stopped(api, pair):
    (alice, a), _ = pair
    a.go("#/wallet")
    a.page.get_by_role("link", name="Checks").click()
    a.page.get_by_role("heading", name="Checks", exact=True).wait_for()
    no_axe_violations(a, "checks (empty)")
    form = a.page.get_by_role("form", name="Write a check")
    form.get_by_role("button", name="Write the check").click()
    expect(form.locator("[data-param=payee] .field-error")).to_have_text("Enter whom the check pays.")
    form.get_by_label("Pay to").fill("Dana's Bakery")
    form.get_by_label("Amount (USD)").fill("42.50")
    form.get_by_label("Memo (optional)").fill("birthday cake")
    form.get_by_role("button", name="Write the check").click()
    written = a.page.get_by_role("region", name="Check 1001")
    expect(written).to_contain_text("Dana's Bakery")
    expect(written).to_contain_text("$42.50")
    expect(written.locator(".micr-print")).to_have_text(re.compile(r"^1001 \d{9} \d+$"))
    expect(written.locator(".micr-print .micr-sym.transit")).to_have_count(2)
    expect(written).to_contain_text("check number 1001")  # what a screen reader reads
    screenshot(a, "checks-written")
    written.get_by_role("button", name="Show it in my checks").click()
    checks = a.page.get_by_role("list", name="Checks you wrote").locator(":scope > li")
    expect(checks).to_have_count(1)
    expect(checks.first).to_contain_text("Written, not paid yet")
    checks.first.get_by_role("button", name="Stop payment").click()
    expect(checks.first.get_by_role("group", name="Stop check 1001?")).to_be_visible()
    no_axe_violations(a, "checks (stop asks first)")
    checks.first.get_by_role("button", name="Yes, stop check 1001").click()
    expect(a.page.get_by_role("status")).to_contain_text("Check 1001 stopped")
    checks = a.page.get_by_role("list", name="Checks you wrote").locator(":scope > li")
    expect(checks.first.locator(".badge")).to_have_text("Stopped")
    expect(checks.first.get_by_role("button", name="Stop payment")).to_have_count(0)
    no_axe_violations(a, "checks (stopped)")
    screenshot(a, "checks-stopped")
    assert balance(api, alice) == 0  # writing and stopping a check moves no money


def test_a_check_is_deposited_with_its_holds_and_refusals_in_plain_words(api, pair, tmp_path):
    (alice, a), _ = pair
    front, back = tmp_path / "front.png", tmp_path / "back.png"
    front.write_bytes(png(uuid.uuid4().hex))
    back.write_bytes(png(uuid.uuid4().hex))
    text = tmp_path / "notes.png"
    text.write_bytes(b"not a photo")
    serial = str(uuid.uuid4().int % 10**6)
    a.go("#/checks")
    form = a.page.get_by_role("form", name="Deposit a check")

    def fill(routing=OTHER_BANK, amount="500.00"):
        form.get_by_label("Amount (USD)").fill(amount)
        form.get_by_label("Routing number").fill(routing)
        form.get_by_label("Account number").fill("000123456789")
        form.get_by_label("Check number").fill(serial)
        form.get_by_label("Photo of the front").set_input_files(str(front))
        form.get_by_label("Photo of the back").set_input_files(str(back))

    def error_at(param):
        return form.locator(f"[data-param='{param}'] .field-error")

    send = form.get_by_role("button", name="Deposit the check")
    fill(routing="123456789")  # fails the ABA checksum: the API's 400, said at the field
    form.get_by_label(re.compile("I signed the back")).check()
    send.click()
    expect(error_at("micr.routing")).to_contain_text("9-digit routing number")
    expect(form.get_by_label("Routing number")).to_have_attribute("aria-invalid", "true")
    fill()
    form.get_by_label(re.compile("I signed the back")).uncheck()
    send.click()
    expect(error_at("endorsed")).to_contain_text("Endorse the check first")
    form.get_by_label(re.compile("I signed the back")).check()
    fill(amount="6000")
    send.click()
    expect(error_at("amount")).to_contain_text("at most $5,000 a check")
    no_axe_violations(a, "checks (deposit refused)")
    fill()
    send.click()
    done = a.page.get_by_role("region", name="$500.00 deposited")
    expect(done).to_contain_text("available to spend as follows")
    holds = done.get_by_role("list", name="When the money is available").get_by_role("listitem")
    expect(holds.first).to_contain_text(re.compile(r"^\$500\.00 available on \w+ \d+, 2026"))
    expect(holds.first.locator("time")).to_have_attribute("datetime", re.compile(r"^2026-\d\d-\d\d$"))
    assert balance(api, alice) == 50_000  # credited at once, held in part
    no_axe_violations(a, "checks (deposited)")
    screenshot(a, "checks-deposited")

    fill()  # the same check again
    send.click()
    expect(form.locator(".form-error")).to_contain_text("deposited before")
    form.get_by_label("Photo of the front").set_input_files(str(text))
    send.click()
    expect(error_at("front_image")).to_contain_text("not a PNG or JPEG")

    a.go("#/checks")
    deposits = a.page.get_by_role("list", name="Checks you deposited").locator(":scope > li")
    expect(deposits).to_have_count(1)
    expect(deposits.first).to_contain_text("$500.00")
    expect(deposits.first).to_contain_text("Not all available yet")
    expect(deposits.first).to_contain_text(f"check number {serial}")
    screenshot(a, "checks-list")
    assert a.console_errors == [] and a.foreign_requests() == []


def test_refusals_on_the_cards_screen_are_said_in_words(api, pair):
    (alice, a), _ = pair
    for _ in range(5):  # the most open cards a person may hold
        assert api.money("/v1/cards", {}, as_=alice).status_code == 201
    a.go("#/cards")
    a.page.get_by_role("button", name="Issue a card").click()
    form = a.page.get_by_role("form", name="New card")
    expect(form.locator(".form-error")).to_have_text(
        "You have as many open cards as Flock allows. Close one to issue another.")
    card = cards_list(a).get_by_role("listitem").first
    card.get_by_text("Limits", exact=True).click()
    card.get_by_label("Per payment (USD)").fill("0")
    card.get_by_role("button", name="Save limits").click()
    expect(card.locator("[data-param=per_transaction] .field-error")).to_contain_text("above zero")
    card.get_by_label("Per payment (USD)").fill("")
    card.get_by_label(re.compile("Blocked merchant categories")).fill("7995, casino")
    card.get_by_role("button", name="Save limits").click()
    expect(card.locator("[data-param=blocked_mccs] .field-error")).to_contain_text("“CASINO” is not a four-digit")
    no_axe_violations(a, "cards (refusals)")


def test_an_unverified_person_is_told_why_there_are_no_cards_or_checks(api, people):
    who = api.signup(handle("unv"))
    person = people()
    person.use_session(api.call("POST", "/v1/auth/login", {"handle": who, "password": PASSWORD}).json())
    for screen in ("cards", "checks"):
        person.go(f"#/{screen}")
        expect(person.page.get_by_role("note")).to_contain_text("once Flock has verified you")
        no_axe_violations(person, f"{screen} (unverified)")


def test_the_money_screens_fit_a_phone(api, people):
    """390 px wide: nothing scrolls sideways, the MICR fields wrap."""
    who = api.verified(handle("ph"))
    person = people(width=390, height=844)
    person.use_session(api.call("POST", "/v1/auth/login", {"handle": who, "password": PASSWORD}).json())
    for screen in ("cards", "checks"):
        person.go(f"#/{screen}")
        assert person.page.evaluate("() => document.documentElement.scrollWidth") <= 390, screen
        screenshot(person, f"{screen}-phone")
