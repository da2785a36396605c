"""The one place a job is declared. Its `@app.schedule` handler
(chalicelib/api/__init__.py), the admin endpoint `POST /v1/admin/jobs/{name}`,
the CLI command `python -m chalicelib.cli job NAME`, the OpenAPI enum of job
names and the Lambda timeouts of the deployment template (infra/template.py)
all follow from the declarations in chalicelib/jobs/__init__.py.

A new job: write its function, then `declare(Job(...))` it beside the others.
"""
from dataclasses import dataclass
from typing import Callable, Literal

# What a scheduled start of a segmented job does on AWS: save the run item and
# send one SQS message per segment. Seconds, not minutes.
FAN_OUT_TIMEOUT_S = 60
LAMBDA_TIMEOUT_MAX_S = 900


@dataclass(frozen=True)
class Job:
    """A job.

    Attributes:
      name: its name in URLs, the CLI and logs (lower case, dashes).
      run: a whole job: `run(as_of) -> summary`; a segmented one runs one
        scan segment: `run(as_of, segment, total, history=None) -> part`.
      description: one line for people (CLI help, the OpenAPI document).
      segmented: whether it works in parallel scan segments (fanned out over
        SQS on AWS, one after another locally).
      schedule: an EventBridge expression ("rate(1 day)", "cron(...)"), or
        None for a job only an operator starts.
      as_of: the business day a scheduled run is for: "yesterday" (the last
        whole day, every job's default) or "today" (work due during the day).
      timeout_s: seconds the Lambda that does the work may take: the scheduled
        function of a whole job, the jobs worker for a segment.
      combine: segmented only: the run's summary from its segments' parts
        (None: the counts added up).
      rated: segmented only: reads the interest rate history (once per run).
    """
    name: str
    run: Callable
    description: str
    segmented: bool = False
    schedule: str | None = "rate(1 day)"
    as_of: Literal["yesterday", "today"] = "yesterday"
    timeout_s: int = 300
    combine: Callable | None = None
    rated: bool = False

    def __post_init__(self):
        if not 1 <= self.timeout_s <= LAMBDA_TIMEOUT_MAX_S:
            raise ValueError(f"job {self.name}: a Lambda runs 1..{LAMBDA_TIMEOUT_MAX_S} s")
        if self.as_of not in ("yesterday", "today"):
            raise ValueError(f"job {self.name}: as_of is 'yesterday' or 'today'")

    @property
    def function_name(self) -> str:
        """The scheduled Lambda's handler name (what AWS's scheduler invokes)."""
        return "job_" + self.name.replace("-", "_")

    @property
    def scheduled_timeout_s(self) -> int:
        """The scheduled function's timeout: a segmented job's only fans out."""
        return FAN_OUT_TIMEOUT_S if self.segmented else self.timeout_s


JOBS: dict[str, Job] = {}


def declare(job: Job) -> Job:
    if job.name in JOBS:
        raise ValueError(f"job {job.name} is declared twice")
    JOBS[job.name] = job
    return job


def get(name: str) -> Job | None:
    return JOBS.get(name)


def names() -> tuple[str, ...]:
    return tuple(JOBS)


def scheduled() -> list[Job]:
    return [job for job in JOBS.values() if job.schedule]


def worker_timeout_s() -> int:
    """The jobs worker runs any job's segment: the longest a segment may take."""
    return max((job.timeout_s for job in JOBS.values() if job.segmented), default=FAN_OUT_TIMEOUT_S)


def function_timeouts() -> dict[str, int]:
    """Handler name -> Lambda timeout, for the deployment template."""
    return {job.function_name: job.scheduled_timeout_s for job in scheduled()}
