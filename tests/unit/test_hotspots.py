"""The hot-item simulator (bench/hotspots.py) runs on a tiny workload and its
report is computed: write units counted per item, scaled to the target rates."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import hotspots  # noqa: E402


def test_write_units_per_item_of_each_request_kind():
    table_of = lambda name: name.removeprefix("flock-dev-")  # noqa: E731
    key = {"pk": {"S": "POST#post_a"}, "sk": {"S": "CNT#3"}}
    assert hotspots.write_units("UpdateItem", {"TableName": "flock-dev-posts", "Key": key}, table_of) == [
        ("posts POST#post_a / CNT#3", 1)]
    tx = {"TransactItems": [{"Update": {"TableName": "flock-dev-posts", "Key": key}},
                            {"ConditionCheck": {"TableName": "flock-dev-users",
                                                "Key": {"pk": {"S": "USER#u"}, "sk": {"S": "PROFILE"}}}},
                            {"Put": {"TableName": "flock-dev-posts", "Item": {**key, "likes": {"N": "1"}}}}]}
    assert [u for _, u in hotspots.write_units("TransactWriteItems", tx, table_of)] == [2, 2, 2]
    assert hotspots.write_units("GetItem", {"TableName": "flock-dev-posts", "Key": key}, table_of) == []
    assert hotspots.family_of("posts POST#post_a / CNT#3") == "posts POST#post_a / CNT#*"
    assert hotspots.family_of("balances ACCT#acct_sys_fees_3 / ACCT") == "balances ACCT#acct_sys_fees_* / ACCT"
    assert hotspots.family_of("posts POST#post_a / POST") is None


@pytest.mark.parametrize("s", [0.0, 1.2])
def test_zipf_pick_stays_in_range(s):
    import random
    rng = random.Random(1)
    assert {hotspots.zipf_pick(rng, 3, s) for _ in range(200)} == {0, 1, 2}


def test_a_tiny_workload_runs_and_its_report_is_computed():
    lines = []
    report = hotspots.simulate(hotspots.Workload(people=7, follows=6, likes=6, tips=3, transfers=3),
                               say=lines.append)
    assert report.ops == {"follow": 6, "like": 6, "tip": 3, "p2p": 3}
    assert all(report.focus_ops[p] >= 1 for p in ("like", "tip", "p2p"))
    assert report.rows and all(r.wcu_per_s > 0 for r in report.rows)
    assert [r.wcu_per_s for r in report.rows] == sorted((r.wcu_per_s for r in report.rows), reverse=True)
    assert set(report.per_path) <= set(hotspots.TARGETS)
    summary = hotspots.print_report(report, say=lines.append)
    assert summary[-1].startswith("hot items: ")
    assert [s.split()[2].rstrip(":") for s in summary[:-1]] == list(hotspots.TARGETS)
