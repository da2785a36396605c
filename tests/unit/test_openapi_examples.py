"""The examples /docs shows are true: each request example is accepted by
its body model, each answer example fits its response schema."""
import jsonschema
import pytest

import app as app_module
from chalicelib import http
from chalicelib.api import examples, openapi

MODELS = {s.body.__name__: s.body for s in http.REGISTRY if s.body is not None}


@pytest.mark.parametrize("name", sorted(examples.REQUESTS))
def test_request_examples_are_accepted_by_their_models(name):
    if name in openapi.RAW_BODIES:  # a view reading its body itself: its documented schema
        doc = openapi.document(app_module.app)
        schema = {**openapi.RAW_BODIES[name], "components": doc["components"]}
        jsonschema.validate(examples.REQUESTS[name], schema, cls=jsonschema.Draft202012Validator)
        return
    assert name in MODELS, f"no route takes {name}"
    MODELS[name].model_validate(examples.REQUESTS[name])


@pytest.mark.parametrize("name", sorted(examples.RESPONSES))
def test_answer_examples_fit_their_schemas(name):
    doc = openapi.document(app_module.app)
    schema = {**doc["components"]["schemas"][name], "components": doc["components"]}
    jsonschema.validate(examples.RESPONSES[name], schema, cls=jsonschema.Draft202012Validator)


def test_most_operations_show_an_example():
    doc = openapi.document(app_module.app)
    json_ops = with_example = 0
    for ops in doc["paths"].values():
        for op in ops.values():
            bodies = [op.get("requestBody", {}).get("content", {}).get("application/json")] + \
                [a.get("content", {}).get("application/json") for s, a in op["responses"].items() if s < "300"]
            for media in filter(None, bodies):
                json_ops += 1
                with_example += "example" in media
    assert with_example >= 0.8 * json_ops, (with_example, json_ops)
