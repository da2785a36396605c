"""Answers of the operations routes: jobs, the test clock, health and the
document itself."""
from datetime import date
from enum import Enum
from typing import Any

from chalicelib.jobs import registry  # importing it runs chalicelib/jobs' declarations first
from chalicelib.records.common import Answer, Count, Id, Time


JobName = Enum("JobName", {n: n for n in registry.names()}, type=str)
JobName.__doc__ = "A scheduled job (chalicelib/jobs/registry.py)."


class JobRunStatus(str, Enum):
    running = "running"
    done = "done"


class JobSummary(Answer):
    """A job run to its end.

    Attributes:
      job: the job.
      as_of: the business day it ran for.
      processed: items looked at.
      changed: items this run wrote.
    """
    job: JobName
    as_of: date
    processed: int = Count
    changed: int = Count


class JobStarted(Answer):
    """A job fanned out over its segments; follow it at .../runs/{run_id}.

    Attributes:
      run_id: the run.
      job: the job.
      as_of: the business day it runs for.
    """
    run_id: str = Id
    job: JobName
    as_of: date


class JobRun(Answer):
    """A fanned-out run's progress.

    Attributes:
      run_id: the run.
      job: the job.
      as_of: the business day it runs for.
      segments: segments in all.
      segments_done: segments finished.
      status: running or done.
      processed: items looked at so far.
      changed: items written so far.
    """
    run_id: str = Id
    job: JobName
    as_of: date
    segments: int = Count
    segments_done: int = Count
    status: JobRunStatus
    processed: int = Count
    changed: int = Count


class Clock(Answer):
    """Attributes:
      now: business time.
    """
    now: Time


class Health(Answer):
    """Attributes:
      status: ok.
    """
    status: str


class OpenApiDocument(Answer):
    """This document.

    Attributes:
      openapi: the OpenAPI version.
      paths: the routes.
    """
    openapi: str
    paths: dict[str, Any]
