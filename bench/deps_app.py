"""A second cold-start reference: the floor (minimal_app) plus the
third-party packages of requirements.txt that `import app` loads: pyotp and
cachetools. pydantic is not among them: the request models, and pydantic
with them, load on the first request that validates one
(chalicelib/lazy.py); argon2-cffi, PyJWT and cryptography are imported on
first use too (the first login, token check or sealed secret pays for
them, not the cold start). bench/run.py prints the packages `import app`
actually loads, to keep this file honest. `import app` minus this is the
cost of Flock's own modules."""
import cachetools  # noqa: F401
import pyotp  # noqa: F401

from minimal_app import app  # noqa: F401
