"""Demo data for `make demo`: a few people, posts in English and Persian,
follows, a paid post, money and a DM conversation, so the web client is not
empty. Seeded through the HTTP API of the running dev server, as a person
and an operator would (nothing here writes a table directly).

    python scripts/demo.py http://127.0.0.1:8000 ADMIN_PASSWORD
"""
import json
import sys
import urllib.error
import urllib.request
import uuid

PASSWORD = "correct horse battery"
PEOPLE = [  # handle, display name, bio
    ("maryam", "مریم", "عکاس و کتاب‌خوان · Tehran → Toronto"),
    ("sam", "Sam Okafor", "Bakes bread, writes about money."),
    ("lena", "Lena", "Trail runner. Sells training plans."),
]
POSTS = [
    ("maryam", "سلام! اولین پستم در فلاک. امروز یک کتاب خوب خواندم 📚", None),
    ("sam", "Sourdough day. Starter is alive, kitchen smells amazing.", None),
    ("lena", "My 12-week half-marathon plan: week by week, with the long runs and the rest days that matter.", 499),
    ("sam", "Who wants the recipe? Paying it forward: tips go to the local food bank.", None),
    ("maryam", "نان سام واقعا عالی بود، ممنون! 🍞", None),
]


class Client:
    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.tokens = {}

    def call(self, method, path, body=None, as_=None, money=False):
        headers = {"Content-Type": "application/json"}
        if as_:
            headers["Authorization"] = f"Bearer {self.tokens[as_]}"
        if money:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                text = r.read().decode()
        except urllib.error.HTTPError as refused:
            raise RuntimeError(f"{method} {path}: {refused.code} {refused.read().decode()[:200]}") from None
        return json.loads(text) if text else None


def seed(base_url: str, admin_password: str) -> list[str]:
    """Seeds once; a stack already seeded (maryam exists) is left alone."""
    api = Client(base_url)
    api.tokens["admin"] = api.call("POST", "/v1/auth/login", {"handle": "admin", "password": admin_password})["token"]
    try:
        api.call("GET", "/v1/users/maryam", as_="admin")
        return [h for h, _, _ in PEOPLE]
    except RuntimeError:
        pass
    for handle, name, bio in PEOPLE:
        api.tokens[handle] = api.call("POST", "/v1/auth/signup",
                                      {"handle": handle, "password": PASSWORD, "display_name": name})["token"]
        api.call("PATCH", "/v1/me", {"bio": bio}, as_=handle)
        api.call("POST", f"/v1/admin/users/{handle}/verify", {"reason": "demo"}, as_="admin")
        api.call("POST", "/v1/wallet/deposits", {"amount": 50_000, "currency": "USD"}, as_=handle, money=True)
    for a, b in [("maryam", "sam"), ("sam", "maryam"), ("maryam", "lena"), ("lena", "sam"), ("sam", "lena")]:
        api.call("POST", f"/v1/users/{b}/follow", as_=a)
    for handle, text, price in POSTS:
        body = {"text": text}
        if price:
            body["price"] = {"amount": price, "currency": "USD"}
        api.call("POST", "/v1/posts", body, as_=handle)
    lena_plan = api.call("GET", "/v1/users/lena/posts", as_="sam")["data"][0]
    api.call("POST", f"/v1/posts/{lena_plan['id']}/unlock", as_="sam", money=True)
    api.call("POST", f"/v1/posts/{lena_plan['id']}/tips", {"amount": 200, "currency": "USD"}, as_="sam", money=True)
    api.call("POST", "/v1/transfers", {"to": "sam", "amount": 1250, "currency": "USD", "note": "bread 🍞"},
             as_="maryam", money=True)
    conv = api.call("POST", "/v1/conversations", {"with": "sam"}, as_="maryam")
    api.call("POST", f"/v1/conversations/{conv['id']}/messages", {"text": "سلام سام! نان فردا هم داری؟"}, as_="maryam")
    api.call("POST", f"/v1/conversations/{conv['id']}/messages", {"text": "Yes! Two loaves saved for you."}, as_="sam")
    api.call("POST", f"/v1/conversations/{conv['id']}/payments",
             {"amount": 800, "currency": "USD", "note": "two loaves"}, as_="maryam", money=True)
    api.call("POST", "/v1/payment-requests", {"from": "lena", "amount": 1500, "currency": "USD", "note": "race entry"},
             as_="sam")
    return [h for h, _, _ in PEOPLE]


if __name__ == "__main__":
    print("Seeded:", ", ".join(seed(sys.argv[1], sys.argv[2])))
