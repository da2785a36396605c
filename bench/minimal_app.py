"""The cold-start floor: the smallest Chalice app on DynamoDB through
PynamoDB — chalice, boto3 and pynamodb imported, one model, one route,
nothing of Flock. `bench/run.py` imports it in a fresh process beside `app`."""
import boto3  # noqa: F401  (Flock's app imports it too: the floor pays for it as well)
from chalice import Chalice
from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

app = Chalice(app_name="minimal")


class Thing(Model):
    class Meta:
        table_name = "things"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


@app.route("/")
def index():
    return {"ok": True}
