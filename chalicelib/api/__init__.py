"""Chalice blueprints: thin routes, one module per area."""
import logging

from chalice import Chalice, Rate

from chalicelib import http, jobs


def register(app: Chalice) -> None:
    from chalicelib.api import identity, social, system, wallet
    from chalicelib.social import fanout

    app.log.setLevel(logging.INFO)
    for blueprint in (system.bp, identity.bp, wallet.bp, social.bp):
        app.register_blueprint(blueprint)
    app.register_middleware(http.reshape_errors, "http")
    _register_jobs(app)

    @app.on_sqs_message(queue=fanout_queue_name(), batch_size=10)
    def fanout_worker(event):
        return fanout.handle_sqs_event(event)


def fanout_queue_name() -> str:
    """Per stage, so a dev and a prod stack can share an AWS account."""
    from chalicelib.config import settings
    return f"{settings().table_prefix}-fanout"


SCHEDULES = {
    "reconcile": Rate(1, unit=Rate.DAYS),
    "expire-holds": Rate(1, unit=Rate.HOURS),
}


def _register_jobs(app: Chalice) -> None:
    """Each job is also an `@app.schedule` handler, named after it."""
    for name, rate in SCHEDULES.items():
        function_name = "job_" + name.replace("-", "_")

        def handler(event, _name=name):
            summary = jobs.run(_name)
            app.log.info("job %s: %s", _name, {k: summary[k] for k in ("as_of", "processed", "changed")})
            return summary

        handler.__name__ = function_name
        app.schedule(rate, name=function_name)(handler)
