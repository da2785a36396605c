"""Hostile review of the records refactor (services return frozen pydantic
records, http.present makes the JSON): callers that still treat a service's
answer as a dict, replays that answer other JSON, values a record refuses."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))


def test_the_hot_item_simulator_reads_a_created_post_as_the_record_it_is():
    """bench/hotspots.py took `posts.create(...)["id"]`: a Post record is not
    subscriptable, so `make bench`'s hot-item section died with a TypeError."""
    import hotspots
    report = hotspots.simulate(hotspots.Workload(people=7, follows=6, likes=6, tips=3, transfers=3),
                               say=lambda _: None)
    assert report.ops == {"follow": 6, "like": 6, "tip": 3, "p2p": 3}
