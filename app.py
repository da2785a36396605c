"""Flock: a social network that is also a bank. This file only wires."""
from chalice import Chalice

from chalicelib.api import register

app = Chalice(app_name="flock")
register(app)
