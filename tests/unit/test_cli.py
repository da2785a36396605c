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
    assert login("ops2", "a-long-operator-password", "127.0.0.1")["user"]["role"] == "admin"
