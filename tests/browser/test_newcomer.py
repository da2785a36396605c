"""The newcomer's path: the money example `make run` prints works when
pasted into a shell, against a stack started as `make run` starts it."""
import json
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ADMIN_PASSWORD, ROOT

sys.path.insert(0, f"{ROOT}/scripts")
import devserver  # noqa: E402


def _example(banner: str) -> str:
    lines = banner.splitlines()
    start = lines.index("Money in three steps (paste into a shell; needs curl and python3):") + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("Ctrl-C"))
    return "\n".join(lines[start:end])


@pytest.mark.skipif(not shutil.which("curl"), reason="the example uses curl")
def test_the_printed_money_example_works_when_pasted(stack):
    banner = devserver.banner(stack["api"], ADMIN_PASSWORD, from_env=False)
    for where in ("/docs", "/v1/openapi.json", "Admin login", ADMIN_PASSWORD, "Ctrl-C", "in memory"):
        assert where in banner
    out = subprocess.run(["bash", "-e", "-c", _example(banner)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    answers = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert [a.get("verified") for a in answers[:2]] == [True, True], answers
    deposit, transfer = answers[2], answers[3]
    assert (deposit["kind"], deposit["amount"]) == ("deposit", 10_000), deposit
    assert (transfer["kind"], transfer["from"], transfer["to"], transfer["amount"]) == ("p2p", "alice", "bob", 2500)
    # The stack seeded the sample ECB rates: a EUR deposit, then a conversion at a quote.
    eur, conversion = answers[4], answers[5]
    assert (eur["kind"], eur["amount"], eur["currency"]) == ("deposit", 5_000, "EUR"), eur
    assert (conversion["kind"], conversion["amount"], conversion["currency"]) == ("conversion", 2_000, "EUR"), conversion


def test_make_demo_seeds_people_posts_money_and_a_conversation(stack, api):
    import demo
    assert demo.seed(stack["api"], ADMIN_PASSWORD) == ["maryam", "sam", "lena"]
    assert demo.seed(stack["api"], ADMIN_PASSWORD) == ["maryam", "sam", "lena"]  # once only
    api.login("sam", demo.PASSWORD)
    timeline = api.call("GET", "/v1/timeline", as_="sam").json()["data"]
    assert any("کتاب" in p["text"] for p in timeline) and any(p["price"] for p in timeline)
    assert not next(p for p in timeline if p["price"])["locked"]  # sam unlocked lena's plan
    wallet = api.call("GET", "/v1/wallet", as_="sam").json()
    assert wallet["balance"] > 50_000
    (conv,) = api.call("GET", "/v1/conversations", as_="sam").json()["data"]
    messages = api.call("GET", f"/v1/conversations/{conv['id']}/messages", as_="sam").json()["data"]
    assert any(m["payment"] for m in messages) and len(messages) == 3
