"""A job is declared once (chalicelib/jobs/registry.py): its schedule
handler, the admin endpoint, the CLI command, the OpenAPI enum of job names
and the Lambda timeouts of the template all follow from the declaration."""
import json
from datetime import timedelta

import pytest
from chalice.app import ScheduledEventConfig

import app as app_module
from chalicelib import cli, clock, jobs
from chalicelib.api import function_timeouts, openapi
from chalicelib.jobs import registry


@pytest.fixture
def a_new_job():
    """A job declared the way a new feature declares one, gone afterwards."""
    seen = []

    def run_noop(as_of):
        seen.append(as_of)
        return {"processed": 3, "changed": 1}

    job = registry.declare(registry.Job("noop", run_noop, "Look at three things, change one.", schedule=None,
                                        timeout_s=120))
    try:
        yield job, seen
    finally:
        registry.JOBS.pop("noop")


def test_every_declared_job_with_a_schedule_is_a_schedule_handler_and_nothing_else_is():
    sources = {s.name: s for s in app_module.app.event_sources if isinstance(s, ScheduledEventConfig)}
    assert set(sources) == {job.function_name for job in registry.scheduled()}
    for job in registry.scheduled():
        assert sources[job.function_name].schedule_expression == job.schedule
    assert sources["job_expire_holds"].schedule_expression == "rate(1 hour)"
    assert set(jobs.NAMES) == set(registry.names()) >= {"reconcile", "expire-holds", "subscriptions",
                                                        "accrue-interest", "post-interest", "loan-servicing"}


@pytest.mark.parametrize("name,as_of_days_back", [("loan-servicing", 0), ("expire-holds", 0), ("reconcile", 1),
                                                  ("subscriptions", 1)])
def test_a_scheduled_run_is_for_the_day_its_declaration_says(api, name, as_of_days_back):
    event = api.client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                                resources=[])
    result = api.client.lambda_.invoke(registry.get(name).function_name, event)
    assert result.payload["job"] == name
    assert result.payload["as_of"] == (clock.now().date() - timedelta(days=as_of_days_back)).isoformat()


def test_the_document_enumerates_the_declared_jobs():
    doc = openapi.document(app_module.app)
    assert doc["components"]["schemas"]["JobName"]["enum"] == list(registry.names())
    (name,) = [p for p in doc["paths"]["/v1/admin/jobs/{name}"]["post"]["parameters"] if p["name"] == "name"]
    assert name["schema"] == {"$ref": "#/components/schemas/JobName"}


def test_a_new_declaration_is_an_admin_endpoint_and_a_cli_command(api, a_new_job, capsys):
    job, seen = a_new_job
    r = api.admin("POST", "/v1/admin/jobs/noop", {"as_of": "2026-02-28"})
    assert (r.status_code, r.json_body) == (200, {"job": "noop", "as_of": "2026-02-28", "processed": 3, "changed": 1})
    assert cli.main(["job", "noop", "--as-of", "2026-03-01"]) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == "2026-03-01"
    assert [d.isoformat() for d in seen] == ["2026-02-28", "2026-03-01"]
    with pytest.raises(SystemExit):
        cli.main(["job", "--help"])
    help_text = capsys.readouterr().out
    assert "noop" in help_text and job.description in help_text
    assert "job_noop" not in function_timeouts()  # no schedule: no scheduled Lambda


def test_an_undeclared_job_is_a_404_and_a_cli_refusal(api, capsys):
    r = api.admin("POST", "/v1/admin/jobs/noop", {})
    assert (r.status_code, r.json_body["error"]["code"]) == (404, "not_found")
    assert cli.main(["job", "noop"]) == 2


def test_a_job_is_declared_once_with_a_timeout_lambda_allows():
    with pytest.raises(ValueError):
        registry.declare(registry.Job("reconcile", lambda as_of: {}, "again"))
    for bad in (0, 901, -5):
        with pytest.raises(ValueError):
            registry.Job("x", lambda as_of: {}, "x", timeout_s=bad)
    with pytest.raises(ValueError):
        registry.Job("x", lambda as_of: {}, "x", as_of="tomorrow")


def test_lambda_timeouts_follow_the_declarations():
    timeouts = function_timeouts()
    for job in registry.scheduled():
        expected = registry.FAN_OUT_TIMEOUT_S if job.segmented else job.timeout_s
        assert timeouts[job.function_name] == expected, job.name
    assert timeouts["job_subscriptions"] > 30 and timeouts["job_expire_holds"] > 30  # they do the work in the Lambda
    assert timeouts["jobs_worker"] == max(j.timeout_s for j in registry.JOBS.values() if j.segmented)


def test_a_run_answers_a_frozen_summary_whose_json_is_what_the_route_answers(api, a_new_job):
    """The job's own counts ride on the summary beside the ones every job has."""
    from datetime import date

    from pydantic import ValidationError
    summary = jobs.run("noop", date(2026, 2, 28))
    with pytest.raises(ValidationError):
        summary.changed = 2
    assert (summary.job, summary.as_of, summary.processed, summary.changed) == ("noop", date(2026, 2, 28), 3, 1)
    r = api.admin("POST", "/v1/admin/jobs/noop", {"as_of": "2026-02-28"})
    assert (r.status_code, r.json_body) == (200, summary.as_json())
    late = jobs.run("post-interest")  # yesterday of the pinned test clock
    assert late.as_json()["behind"] == 0 and late.segments >= 1
