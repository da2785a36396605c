"""Chalice blueprints: thin routes, one module per area."""
import logging

from chalice import Chalice

from chalicelib import bootstrap as stack_setup  # `bootstrap` names the Lambda function below
from chalicelib import http, jobs
from chalicelib.api import cards, checks, creator, docs, fx, identity, loans, social, system, videos, wallet, web
from chalicelib.config import settings
from chalicelib.jobs import registry
from chalicelib.social import fanout


def register(app: Chalice) -> None:
    app.log.setLevel(logging.INFO)
    for blueprint in (system.bp, identity.bp, wallet.bp, fx.bp, loans.bp, cards.bp, checks.bp, social.bp, creator.bp,
                      videos.bp, docs.bp, web.bp):
        app.register_blueprint(blueprint)
    app.register_middleware(http.reshape_errors, "http")
    _register_jobs(app)

    @app.on_sqs_message(queue=fanout_queue_name(), batch_size=10)
    def fanout_worker(event):
        return fanout.handle_sqs_event(event)

    @app.on_sqs_message(queue=queue_name("jobs"), batch_size=1, name=JOBS_WORKER)
    def jobs_worker(event):
        return jobs.handle_sqs_event(event)

    @app.lambda_function(name=BOOTSTRAP_FUNCTION)
    def bootstrap(event, context):
        return stack_setup.handle(event)


JOBS_WORKER = "jobs_worker"  # runs one segment of a segmented job per SQS message
# The CloudFormation custom resource that creates the system accounts (chalicelib/bootstrap.py).
BOOTSTRAP_FUNCTION = "bootstrap"


def queue_name(purpose: str) -> str:
    """Per stage, so a dev and a prod stack can share an AWS account."""
    return f"{settings().table_prefix}-{purpose}"


def fanout_queue_name() -> str:
    return queue_name("fanout")


def _register_jobs(app: Chalice) -> None:
    """Each job with a schedule in its declaration (chalicelib/jobs/registry.py)
    is an `@app.schedule` handler, named after it."""
    for job in registry.scheduled():
        def handler(event, _job=job):
            # Lambda writes what a handler returns as JSON itself: the record's JSON, then.
            status, summary = jobs.start(_job.name, jobs.scheduled_as_of(_job))
            summary = summary.as_json()
            app.log.info("job %s: %s", _job.name,
                         {k: summary.get(k) for k in ("as_of", "run_id", "processed", "changed")})
            return summary

        handler.__name__ = job.function_name
        app.schedule(job.schedule, name=job.function_name)(handler)


def function_timeouts() -> dict[str, int]:
    """Lambda timeouts that follow from the job declarations (the rest are
    .chalice/config.json's): each scheduled job's, and the jobs worker's."""
    return {**registry.function_timeouts(), JOBS_WORKER: registry.worker_timeout_s()}
