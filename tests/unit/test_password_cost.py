"""The suite hashes passwords with cheap argon2id parameters (tests/conftest.py
sets them through the environment); production must keep the strong ones:
nothing in the deployed configuration lowers them, and without the test
environment the hasher uses RFC 9106's second recommended setting."""
import json
import os

import pytest
from moto import mock_aws

from chalicelib import config
from chalicelib.identity import passwords
from infra import template
from tests.conftest import ROOT, TEST_ENV

COST_VARIABLES = ("FLOCK_ARGON2_MEMORY_KIB", "FLOCK_ARGON2_TIME_COST")


@pytest.fixture(autouse=True)
def aws():
    """Overrides the unit suite's `aws`: no stack is read here."""
    with mock_aws():
        yield


@pytest.fixture
def production_settings(monkeypatch):
    """settings() and the hasher as a process without the test environment sees them."""
    for name in COST_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FLOCK_STAGE", "prod")
    config.settings.cache_clear()
    passwords._hasher.cache_clear()
    yield config.settings()
    config.settings.cache_clear()
    passwords._hasher.cache_clear()


def test_the_suite_runs_on_cheaper_parameters_than_production():
    assert int(TEST_ENV["FLOCK_ARGON2_MEMORY_KIB"]) < 65536
    assert passwords._hasher().memory_cost == int(TEST_ENV["FLOCK_ARGON2_MEMORY_KIB"])


def test_production_hashes_with_argon2id_at_64_mib_and_three_passes(production_settings):
    assert (production_settings.argon2_memory_kib, production_settings.argon2_time_cost) == (65536, 3)
    hasher = passwords._hasher()
    assert (hasher.memory_cost, hasher.time_cost, hasher.parallelism, hasher.type.name) == (65536, 3, 1, "ID")


def test_nothing_deployed_sets_the_cost_variables():
    with open(os.path.join(ROOT, ".chalice", "config.json")) as f:
        chalice_config = f.read()
    deployed = json.dumps(template.build())
    for name in COST_VARIABLES:
        assert name not in chalice_config and name not in deployed, name
