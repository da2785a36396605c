"""Flock: a social network that is also a bank. This file only wires."""
import gc

# A cold start makes some half a million objects that live as long as the
# process; the cyclic collector walking them over and over while they are
# made frees nothing and costs ~70M instructions (5% of the import, measured
# with callgrind). So no collection during the import, and what it made is
# frozen out of every later collection (gc.freeze: the prefork pattern).
_collecting = gc.isenabled()
gc.disable()
try:
    from chalice import Chalice

    from chalicelib.api import register

    app = Chalice(app_name="flock")
    register(app)
finally:
    gc.freeze()
    if _collecting:
        gc.enable()
