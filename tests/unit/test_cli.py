import io
import json

from chalicelib import cli


def test_the_reconcile_job_runs_from_the_cli(capsys):
    assert cli.main(["job", "reconcile", "--as-of", "2026-11-30"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["job"] == "reconcile" and summary["as_of"] == "2026-11-30" and summary["balanced"] is True


def test_an_unknown_job_is_refused(capsys):
    assert cli.main(["job", "no-such-job"]) == 2


def test_bootstrap_is_idempotent(capsys):
    assert cli.main(["bootstrap"]) == 0
    assert json.loads(capsys.readouterr().out) == {"system_account_shards_created": 0}


def test_create_admin_reads_the_password_from_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-operator-password\n"))
    assert cli.main(["create-admin", "ops2"]) == 0
    assert json.loads(capsys.readouterr().out)["role"] == "admin"
    from chalicelib.identity.users import login
    assert login("ops2", "a-long-operator-password", "127.0.0.1").user.role == "admin"


def test_help_lists_the_job_names(capsys):
    from chalicelib.jobs import NAMES
    try:
        cli.main(["--help"])
    except SystemExit:
        pass
    out = capsys.readouterr().out
    assert all(name in out.replace("-\n", "-").replace("\n", " ") for name in NAMES)


def test_a_bad_setting_is_one_line_naming_it(monkeypatch, capsys):
    from chalicelib import config
    monkeypatch.setenv("FLOCK_JOB_SEGMENTS", "eight")
    config.settings.cache_clear()
    try:
        assert cli.main(["job", "reconcile"]) == 2
    finally:
        monkeypatch.delenv("FLOCK_JOB_SEGMENTS")
        config.settings.cache_clear()
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "FLOCK_JOB_SEGMENTS" in err and "Traceback" not in err


def test_no_progress_frames_when_not_a_terminal(capsys):
    assert cli.main(["job", "accrue-interest", "--as-of", "2026-03-01"]) == 0
    assert "\r" not in capsys.readouterr().err


def test_a_running_make_run_is_found_without_environment(tmp_path):
    import os
    from chalicelib import devstack
    path = str(tmp_path / "local-stack.json")
    devstack.write("http://127.0.0.1:1", "http://127.0.0.1:2", path)  # as the dev server does, this pid
    env = {}
    assert devstack.use_if_running(env, path)["url"] == "http://127.0.0.1:1"
    assert env["FLOCK_DYNAMODB_ENDPOINT"] == env["FLOCK_AWS_ENDPOINT"] == "http://127.0.0.1:2"
    assert devstack.use_if_running({"FLOCK_STAGE": "prod"}, path) is None  # an operator on AWS says so
    with open(path, "w") as f:
        json.dump({"pid": 2**22 + 12345, "url": "x", "aws_endpoint": "y"}, f)  # no such process
    assert devstack.use_if_running({}, path) is None
    assert os.environ.get("FLOCK_DYNAMODB_ENDPOINT") is None  # the tests' own environment untouched


def test_python_m_cli_with_a_bad_setting_is_one_line(tmp_path):
    import os
    import subprocess
    import sys
    from tests.conftest import ROOT
    env = {**os.environ, "FLOCK_JOB_SEGMENTS": "eight", "FLOCK_DYNAMODB_ENDPOINT": "http://127.0.0.1:9"}
    out = subprocess.run([sys.executable, "-m", "chalicelib.cli", "job", "reconcile"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stderr.strip() == \
        "Bad setting: FLOCK_JOB_SEGMENTS must be an integer, not 'eight'", out.stderr
