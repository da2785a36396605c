"""Chalice blueprints: thin routes, one module per area."""
import logging

from chalice import Chalice, Rate

from chalicelib import bootstrap as stack_setup  # `bootstrap` names the Lambda function below
from chalicelib import clock, http, jobs
from chalicelib.api import creator, docs, fx, identity, loans, social, system, wallet, web
from chalicelib.config import settings
from chalicelib.social import fanout


def register(app: Chalice) -> None:
    app.log.setLevel(logging.INFO)
    for blueprint in (system.bp, identity.bp, wallet.bp, fx.bp, loans.bp, social.bp, creator.bp, docs.bp, web.bp):
        app.register_blueprint(blueprint)
    app.register_middleware(http.reshape_errors, "http")
    _register_jobs(app)

    @app.on_sqs_message(queue=fanout_queue_name(), batch_size=10)
    def fanout_worker(event):
        return fanout.handle_sqs_event(event)

    @app.on_sqs_message(queue=queue_name("jobs"), batch_size=1)
    def jobs_worker(event):
        return jobs.handle_sqs_event(event)

    @app.lambda_function(name=BOOTSTRAP_FUNCTION)
    def bootstrap(event, context):
        return stack_setup.handle(event)


# The CloudFormation custom resource that creates the system accounts (chalicelib/bootstrap.py).
BOOTSTRAP_FUNCTION = "bootstrap"


def queue_name(purpose: str) -> str:
    """Per stage, so a dev and a prod stack can share an AWS account."""
    return f"{settings().table_prefix}-{purpose}"


def fanout_queue_name() -> str:
    return queue_name("fanout")


# job -> (rate, as-of of a scheduled run: None for the default, yesterday).
# A hold expires at its own time, so the hourly run looks up to today;
# loans are serviced for today, so autopay takes an installment on its due date.
SCHEDULES = {
    "reconcile": (Rate(1, unit=Rate.DAYS), None),
    "expire-holds": (Rate(1, unit=Rate.HOURS), "today"),
    "subscriptions": (Rate(1, unit=Rate.DAYS), None),
    "accrue-interest": (Rate(1, unit=Rate.DAYS), None),
    "post-interest": (Rate(1, unit=Rate.DAYS), None),
    "loan-servicing": (Rate(1, unit=Rate.DAYS), "today"),
}


def _register_jobs(app: Chalice) -> None:
    """Each job is also an `@app.schedule` handler, named after it."""
    for name, (rate, as_of) in SCHEDULES.items():
        function_name = "job_" + name.replace("-", "_")

        def handler(event, _name=name, _as_of=as_of):
            status, summary = jobs.start(_name, clock.now().date() if _as_of == "today" else None)
            app.log.info("job %s: %s", _name, {k: summary.get(k) for k in ("as_of", "run_id", "processed", "changed")})
            return summary

        handler.__name__ = function_name
        app.schedule(rate, name=function_name)(handler)
