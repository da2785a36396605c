"""A second cold-start reference: the floor (minimal_app) plus the
third-party packages of requirements.txt that `import app` loads, used the
way Flock first uses them: pydantic, with one model built. argon2-cffi,
PyJWT and cryptography are left out because Flock imports them lazily (the
first login, token check or sealed secret pays for them, not the cold
start); bench/run.py prints the
packages `import app` actually loads, to keep this file honest. `import app`
minus this is the cost of Flock's own modules."""
from pydantic import BaseModel

from minimal_app import app  # noqa: F401


class Body(BaseModel):
    amount: int
    currency: str
