"""A second cold-start reference: the floor (minimal_app) plus the third-party
packages Flock adds in requirements.txt, each used the way Flock first uses it
(one pydantic model built, PyJWT and argon2 imported). `import app` minus this
is the cost of Flock's own modules."""
import argon2  # noqa: F401
import jwt  # noqa: F401
from pydantic import BaseModel

from minimal_app import app  # noqa: F401


class Body(BaseModel):
    amount: int
    currency: str
