"""Browser tests: Flock's web client in Debian's Chromium, driven by
Playwright for Python, against the same dev server + moto server pair the
e2e tests start (tests/e2e/conftest.py).

Playwright's own browser download is not reachable here, so the browser is
/usr/bin/chromium (`make test` installs it); without it these tests skip.
Each person gets a browser context of their own (own storage, own session).
A failing test leaves a screenshot of every page it opened in
build/browser-failures/. axe-core (tests/browser/vendor, from npm; never
served to users) is added to each page by the browser, not by the page, so
the page's CSP stays exactly what users get.
"""
import os
import re
import uuid

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import Http, _stack

CHROMIUM = "/usr/bin/chromium"
AXE = os.path.join(os.path.dirname(__file__), "vendor", "axe.min.js")
FAILURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "build", "browser-failures")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 10_000

playwright_api = pytest.importorskip("playwright.sync_api")
playwright_api.expect.set_options(timeout=TIMEOUT_MS)  # the machine may be busy: as long as an action may take
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is missing (make test installs it: apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture(scope="session")
def stack():
    with _stack() as urls:
        yield urls


@pytest.fixture(scope="session")
def api(stack):
    client = Http(stack["api"])
    yield client
    client.http.close()


@pytest.fixture(scope="session")
def browser():
    with playwright_api.sync_playwright() as p:
        # launch() gives every run a fresh, throw-away user-data-dir of its own.
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.failed_in_call = report.failed


class Person:
    """One person at the web client: a browser context and its page."""

    def __init__(self, browser, base_url, width=1280, height=900):
        self.base_url = base_url
        self.context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height},
                                           accept_downloads=True)
        self.context.add_init_script(path=AXE)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.requests, self.console_errors = [], []
        self.page.on("request", lambda r: self.requests.append(r.url))
        # JavaScript errors; the browser's own note of each 4xx answer is not one
        self.page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource")
                     and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))

    def go(self, hash_=""):
        """Opens a screen and waits until it is the one on screen (a change of
        hash alone re-renders in place)."""
        if self.page.url == self.base_url + "/" + hash_:
            self.page.reload()
        else:
            self.page.goto("/" + hash_)
        self.page.wait_for_function("h => document.getElementById('main').dataset.route === h", arg=hash_)

    def signup(self, handle, password, display_name=None):
        self.go("#/signup")
        self.page.get_by_label("Handle").fill(handle)
        if display_name:
            self.page.get_by_label("Display name (optional)").fill(display_name)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Create account").click()
        self.page.get_by_role("heading", name="Home").wait_for()

    def login(self, handle, password):
        self.go("#/login")
        self.page.get_by_label("Handle").fill(handle)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        self.page.get_by_role("heading", name="Home").wait_for()

    def use_session(self, answer):
        """Signed in as the API answered (`{user, token}`) without typing it."""
        self.page.goto("/#/login")
        self.page.evaluate("s => localStorage.setItem('flock.session', JSON.stringify(s))",
                           {"token": answer["token"], "user": answer["user"]})
        self.go("#/timeline")

    def axe(self) -> list:
        """Serious and critical axe-core violations on the page as it is now."""
        self.page.wait_for_load_state("networkidle")
        result = self.page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                 "nodes": [n["target"] for n in v["nodes"]][:5]}
                for v in result["violations"] if v["impact"] in ("serious", "critical")]

    def foreign_requests(self) -> list:
        return [u for u in self.requests if not (u.startswith(self.base_url) or u.startswith(("data:", "blob:")))]


@pytest.fixture
def people(browser, stack, request):
    """people(width=...) -> a new Person; screenshots of all on failure."""
    made = []

    def make(**size):
        person = Person(browser, stack["api"], **size)
        made.append(person)
        return person

    yield make
    if getattr(request.node, "failed_in_call", False):
        os.makedirs(FAILURES, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
        for i, person in enumerate(made):
            try:
                person.page.screenshot(path=os.path.join(FAILURES, f"{name}-{i}.png"), full_page=True)
            except Exception:  # noqa: BLE001 - a screenshot must not hide the failure
                pass
    for person in made:
        person.context.close()


# Helpers the browser modules share ------------------------------------------

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
