"""The Security screen in a real browser: the sessions a person is signed in
with (ending another one), and two-step verification set up, confirmed and
turned off again, each state shown as it is. axe-core on each state; a
screenshot of the screen with 2FA just turned on is left in
build/browser-screens/ to look at.

The TOTP code is made from the real clock, as the server checks it
(security time); each flow here presents one code of a fresh secret, so no
step can have been used already."""
import os

import pyotp
from playwright.sync_api import expect

from tests.browser.conftest import handle, no_axe_violations
from tests.conftest import PASSWORD, ROOT

SCREENS = os.path.join(ROOT, "build", "browser-screens")
PHONE = "Flock for Android 3.1"


def login_from(api, who, agent):
    r = api.call("POST", "/v1/auth/login", {"handle": who, "password": PASSWORD}, headers={"User-Agent": agent})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def sessions(person):
    return person.page.get_by_role("list", name="Sessions").get_by_role("listitem")


def test_sessions_listed_and_another_one_ended(api, people):
    who = api.signup(handle("ses"))
    phone_token = login_from(api, who, PHONE)
    person = people()
    person.login(who, PASSWORD)  # this browser's own session
    person.go("#/security")
    expect(sessions(person)).to_have_count(3)  # signup, the phone, this browser
    mine = sessions(person).filter(has_text="this device")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("Chrome")
    expect(mine.get_by_role("button")).to_have_count(0)  # this one ends with "Log out"
    phone = sessions(person).filter(has_text=PHONE)
    expect(phone).to_contain_text("From 127.0.0.1")
    no_axe_violations(person, "security: sessions")

    phone.get_by_role("button", name="End this session").click()
    expect(person.page.get_by_role("status")).to_contain_text("Session ended.")
    expect(sessions(person)).to_have_count(2)
    expect(sessions(person).filter(has_text=PHONE)).to_have_count(0)
    r = api.call("GET", "/v1/me", headers={"Authorization": f"Bearer {phone_token}"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    events = person.page.get_by_role("list", name="Security events")
    expect(events.get_by_text("session ended").first).to_be_visible()
    assert api.call("GET", "/v1/me", as_=who).status_code == 200  # the others go on


def test_two_step_verification_set_up_confirmed_and_turned_off(api, people):
    who = api.signup(handle("tfa"))
    person = people()
    person.login(who, PASSWORD)
    person.go("#/security")
    page = person.page
    card = page.get_by_role("region", name="Two-step verification")
    expect(card).to_contain_text("Off.")
    expect(card.get_by_text("Turn two-step verification off")).to_have_count(0)  # nothing to turn off yet

    card.get_by_role("button", name="Set up an authenticator app").click()
    key = card.get_by_label("Setup key")
    expect(key).to_be_visible()
    secret = key.inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    link = card.get_by_role("link", name="Open in an authenticator app").get_attribute("href")
    assert link.startswith("otpauth://totp/") and f"secret={secret}" in link
    no_axe_violations(person, "security: 2FA enrolment")

    # A wrong code is refused beside its field, and nothing turns on.
    form = card.get_by_role("form", name="Confirm the authenticator")
    form.get_by_label("Code from the app").fill(totp.at(0))
    form.get_by_role("button", name="Turn on").click()
    expect(form.locator(".field-error")).to_be_visible()
    assert "token" in api.login(who).json()

    form.get_by_label("Code from the app").fill(totp.now())
    form.get_by_role("button", name="Turn on").click()
    codes = card.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    expect(card).to_contain_text("On.")
    expect(card.get_by_role("button", name="Set up an authenticator app")).to_have_count(0)
    recovery = codes.all_inner_texts()
    no_axe_violations(person, "security: 2FA on")
    os.makedirs(SCREENS, exist_ok=True)
    page.screenshot(path=os.path.join(SCREENS, "security.png"), full_page=True)
    signing_in = api.call("POST", "/v1/auth/login", {"handle": who, "password": PASSWORD}).json()
    assert signing_in["mfa_required"] is True and "token" not in signing_in

    # Another visit shows it on, with the way to turn it off.
    person.go("#/security")
    card = page.get_by_role("region", name="Two-step verification")
    expect(card).to_contain_text("On.")
    card.get_by_text("Turn two-step verification off").click()
    off = card.get_by_role("form", name="Turn two-step verification off")
    off.get_by_label("Password").fill("not the password")
    off.get_by_label("Authenticator or recovery code").fill(recovery[0])
    off.get_by_role("button", name="Turn off").click()
    expect(off.get_by_role("alert")).to_have_text("The password is wrong.")
    expect(card).to_contain_text("On.")
    off.get_by_label("Password").fill(PASSWORD)
    off.get_by_role("button", name="Turn off").click()
    expect(page.get_by_role("status")).to_contain_text("Two-step verification is off.")
    expect(card).to_contain_text("Off.")
    expect(card.get_by_role("button", name="Set up an authenticator app")).to_be_visible()
    no_axe_violations(person, "security: 2FA off")
    assert "token" in api.login(who).json()
