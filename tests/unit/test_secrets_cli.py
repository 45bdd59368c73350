"""`llm secrets`: values only with --show, missing ones filled, one rotated at a time."""

from __future__ import annotations

import stat

import pytest
import yaml
from click.testing import CliRunner

from cli.main import llm


@pytest.fixture
def stack(tmp_path):
    target = tmp_path / "stack"
    assert CliRunner().invoke(llm, ["init", "--dir", str(target)]).exit_code == 0
    return target


def values(stack) -> dict[str, str]:
    return yaml.safe_load((stack / "secrets.yml").read_text())


def test_list_hides_values_unless_show(stack):
    secrets = values(stack)
    hidden = CliRunner().invoke(llm, ["secrets", "list", "--dir", str(stack)])
    assert hidden.exit_code == 0
    assert not any(v in hidden.output for v in secrets.values())
    assert hidden.output.count(" set ") == len(secrets)
    shown = CliRunner().invoke(llm, ["secrets", "list", "--show", "--dir", str(stack)])
    assert all(v in shown.output for v in secrets.values())


def test_list_shows_only_the_secrets_named(stack):
    secrets = values(stack)
    one = CliRunner().invoke(
        llm, ["secrets", "list", "--show", "librechat_admin_password", "--dir", str(stack)]
    )
    assert one.exit_code == 0
    assert secrets["librechat_admin_password"] in one.output
    assert one.output.count("\n") == 1  # that one, no other value
    bad = CliRunner().invoke(llm, ["secrets", "list", "nope", "--dir", str(stack)])
    assert bad.exit_code == 2 and "unknown secret 'nope'" in bad.output


def test_rotating_the_administrators_first_password_is_refused(stack):
    """LibreChat keeps the account's own password: a new one here would change nothing."""
    before = (stack / "secrets.yml").read_text()
    result = CliRunner().invoke(
        llm, ["secrets", "rotate", "librechat_admin_password", "--yes", "--dir", str(stack)]
    )
    assert result.exit_code == 2, result.output
    assert "only the administrator's first password" in result.output
    assert "reset-password" in result.output
    assert (stack / "secrets.yml").read_text() == before


def test_generate_fills_only_what_is_missing(stack):
    before = values(stack)
    trimmed = {k: v for k, v in before.items() if k != "meilisearch_master_key"}
    (stack / "secrets.yml").write_text(yaml.safe_dump(trimmed))
    result = CliRunner().invoke(llm, ["secrets", "generate", "--dir", str(stack)])
    assert result.output.strip() == "generated meilisearch_master_key"
    after = values(stack)
    assert {k: after[k] for k in trimmed} == trimmed
    assert len(after["meilisearch_master_key"]) >= 32


def test_rotate_refuses_unknown_names(stack):
    before = (stack / "secrets.yml").read_text()
    result = CliRunner().invoke(llm, ["secrets", "rotate", "nope", "--yes", "--dir", str(stack)])
    assert result.exit_code == 2 and "unknown secret 'nope'" in result.output
    assert "mongodb_app_password" in result.output  # the names there are
    assert (stack / "secrets.yml").read_text() == before


def test_rotate_changes_one_secret_then_redeploys_the_chat_hosts(stack, monkeypatch):
    from cli import runner as runner_module

    jobs = []
    monkeypatch.setattr(runner_module, "run", lambda stack, job, display: jobs.append(job) or 0)
    before = values(stack)
    result = CliRunner().invoke(
        llm, ["secrets", "rotate", "librechat_jwt_secret", "--yes", "--dir", str(stack)]
    )
    assert result.exit_code == 0, result.output
    after = values(stack)
    assert after["librechat_jwt_secret"] != before["librechat_jwt_secret"]
    assert {k: v for k, v in after.items() if k != "librechat_jwt_secret"} == {
        k: v for k, v in before.items() if k != "librechat_jwt_secret"
    }
    assert stat.S_IMODE((stack / "secrets.yml").stat().st_mode) == 0o600
    assert (jobs[0].playbook, jobs[0].limit) == ("install", "llm_chat")
    assert after["librechat_jwt_secret"] not in result.output


def test_rotating_several_secrets_redeploys_once(stack, monkeypatch):
    from cli import runner as runner_module

    jobs = []
    monkeypatch.setattr(runner_module, "run", lambda stack, job, display: jobs.append(job) or 0)
    before = values(stack)
    names = ["mongodb_app_password", "gateway_stats_password"]
    result = CliRunner().invoke(llm, ["secrets", "rotate", *names, "--yes", "--dir", str(stack)])
    assert result.exit_code == 0, result.output
    after = values(stack)
    assert all(after[name] != before[name] for name in names)
    assert after["librechat_jwt_secret"] == before["librechat_jwt_secret"]
    # One redeploy, reaching the gateways too since a gateway secret is among them.
    assert [(j.playbook, j.limit) for j in jobs] == [("install", "llm_chat:llm_gateway")]


def test_one_unknown_name_among_several_changes_nothing(stack):
    before = (stack / "secrets.yml").read_text()
    result = CliRunner().invoke(
        llm, ["secrets", "rotate", "mongodb_app_password", "nope", "--yes", "--dir", str(stack)]
    )
    assert result.exit_code == 2 and "unknown secret 'nope'" in result.output
    assert (stack / "secrets.yml").read_text() == before


@pytest.fixture
def password(tmp_path, monkeypatch):
    path = tmp_path / "vault-pass"
    path.write_text("correct horse battery staple\n")
    monkeypatch.delenv("LLM_VAULT_PASSWORD_FILE", raising=False)
    return path


def test_encrypt_then_every_reader_needs_the_vault_password(stack, password, monkeypatch):
    plain = values(stack)
    result = CliRunner().invoke(
        llm, ["secrets", "encrypt", "--vault-password-file", str(password), "--dir", str(stack)]
    )
    assert result.exit_code == 0, result.output
    raw = (stack / "secrets.yml").read_text()
    assert raw.startswith("$ANSIBLE_VAULT;1.1;AES256")
    assert not any(v in raw for v in plain.values())
    assert stat.S_IMODE((stack / "secrets.yml").stat().st_mode) == 0o600

    monkeypatch.delenv("LLM_VAULT_PASSWORD_FILE", raising=False)
    refused = CliRunner().invoke(llm, ["secrets", "list", "--dir", str(stack)])
    assert refused.exit_code == 2 and "LLM_VAULT_PASSWORD_FILE" in refused.output

    monkeypatch.setenv("LLM_VAULT_PASSWORD_FILE", str(password))
    shown = CliRunner().invoke(llm, ["secrets", "list", "--show", "--dir", str(stack)])
    assert all(v in shown.output for v in plain.values())

    # Filling a missing secret keeps the file encrypted.
    from cli import secretstore

    current = secretstore.load(stack / "secrets.yml")
    del current["meilisearch_master_key"]
    secretstore._write(stack / "secrets.yml", current)
    assert secretstore.ensure(stack / "secrets.yml") == ["meilisearch_master_key"]
    assert (stack / "secrets.yml").read_text().startswith("$ANSIBLE_VAULT")

    decrypted = CliRunner().invoke(llm, ["secrets", "decrypt", "--dir", str(stack)])
    assert decrypted.exit_code == 0, decrypted.output
    after = values(stack)
    assert {k: v for k, v in after.items() if k != "meilisearch_master_key"} == {
        k: v for k, v in plain.items() if k != "meilisearch_master_key"
    }


def test_wrong_vault_password_is_one_line(stack, password, tmp_path, monkeypatch):
    CliRunner().invoke(
        llm, ["secrets", "encrypt", "--vault-password-file", str(password), "--dir", str(stack)]
    )
    wrong = tmp_path / "wrong"
    wrong.write_text("not it\n")
    monkeypatch.setenv("LLM_VAULT_PASSWORD_FILE", str(wrong))
    result = CliRunner().invoke(llm, ["secrets", "list", "--dir", str(stack)])
    assert result.exit_code == 2
    assert "cannot decrypt" in result.output and "check the vault password file" in result.output
