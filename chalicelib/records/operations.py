"""Answers of the operations routes: jobs, the test clock, health and the
document itself."""
from datetime import date
from enum import Enum
from typing import Any

from pydantic import Field

from chalicelib.jobs import registry  # importing it runs chalicelib/jobs' declarations first
from chalicelib.records.common import Answer, Count, Id, Time


class _Declared(str, Enum):
    @classmethod
    def _missing_(cls, value):
        """A job declared after this enum was built (a test's own) is a job
        all the same: the declaration, not this snapshot, says what a job is."""
        if not isinstance(value, str) or registry.get(value) is None:
            return None
        member = str.__new__(cls, value)
        member._name_ = member._value_ = value
        return member


JobName = _Declared("JobName", {n: n for n in registry.names()})
JobName.__doc__ = "A scheduled job (chalicelib/jobs/registry.py)."


class JobRunStatus(str, Enum):
    running = "running"
    done = "done"


class JobSummary(Answer):
    """A job run to its end. Each job adds its own counts beside these
    (`behind`, a subscription's outcomes, the reconcile report): the
    object stays open for them.

    Attributes:
      job: the job.
      as_of: the business day it ran for.
      processed: items looked at.
      changed: items this run wrote.
      segments: a segmented job's scan segments, run one after another.
    """
    job: JobName
    as_of: date
    processed: int = Count
    changed: int = Count
    segments: int | None = Field(default=None, ge=1)


class JobStarted(Answer):
    """A job fanned out over its segments; follow it at .../runs/{run_id}.

    Attributes:
      run_id: the run.
      job: the job.
      as_of: the business day it runs for.
      segments: the segments it fans out over.
    """
    run_id: str = Id
    job: JobName
    as_of: date
    segments: int = Field(ge=1)


class JobRun(Answer):
    """A fanned-out run's progress; a reconcile run adds its report so far.

    Attributes:
      run_id: the run.
      job: the job.
      as_of: the business day it runs for.
      segments: segments in all.
      segments_done: segments finished.
      status: running or done.
      processed: items looked at so far.
      changed: items written so far.
      started_at: when the run started.
    """
    run_id: str = Id
    job: JobName
    as_of: date
    segments: int = Count
    segments_done: int = Count
    status: JobRunStatus
    processed: int = Count
    changed: int = Count
    started_at: Time


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
