"""API keys (`llm keys`) and the stack's CA (`llm tls ca`), without a lab: the key
file holds hashes only, mistakes are one line and exit 2 with nothing changed."""

from __future__ import annotations

import hashlib
import re
import stat

import pytest
import yaml
from click.testing import CliRunner

from cli import keystore
from cli.main import llm


def run(*args: str):
    return CliRunner().invoke(llm, list(args))


@pytest.fixture
def stack(tmp_path):
    path = tmp_path / "stack"
    assert run("init", "--dir", str(path)).exit_code == 0
    return path


def added_key(output: str) -> str:
    return re.search(r"^\s+(llmk_\S+)$", output, re.M).group(1)


def test_a_key_is_shown_once_and_only_its_hash_is_kept(stack):
    result = run("keys", "add", "alice", "--dir", str(stack))
    assert result.exit_code == 0, result.output
    key = added_key(result.output)
    assert re.fullmatch(r"llmk_[A-Za-z0-9_-]{43}", key)
    assert "security module is not enabled" in result.output  # recorded, applied later
    stored = (stack / "api-keys.yml").read_text()
    assert key not in stored
    assert yaml.safe_load(stored) == {
        "gateway_api_keys": {"alice": hashlib.sha256(key.encode()).hexdigest()}
    }
    assert stat.S_IMODE((stack / "api-keys.yml").stat().st_mode) == 0o600
    listed = run("keys", "list", "--dir", str(stack))
    assert "alice" in listed.output and key not in listed.output


def test_two_keys_differ_and_revoke_removes_one(stack):
    first = added_key(run("keys", "add", "alice", "--dir", str(stack)).output)
    second = added_key(run("keys", "add", "bob", "--dir", str(stack)).output)
    assert first != second
    revoked = run("keys", "revoke", "alice", "--yes", "--dir", str(stack))
    assert revoked.exit_code == 0, revoked.output
    assert list(keystore.load(stack / "api-keys.yml")) == ["bob"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("keys", "add", "two words"), "is not a usable key name"),
        (("keys", "add", "librechat"), "LibreChat's own key"),
        (("keys", "revoke", "nobody", "--yes"), "no key named 'nobody'"),
        (("keys", "add", "alice", "--check"), "llm keys add does not take --check"),
        (("keys", "revoke", "alice", "--yes", "--check"), "does not take --check"),
        (("tls", "ca"), "no CA certificate in"),
    ],
)
def test_mistakes_are_one_line_and_change_nothing(stack, args, message):
    run("keys", "add", "alice", "--dir", str(stack))
    before = (stack / "api-keys.yml").read_bytes()
    result = run(*args, "--dir", str(stack))
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert (stack / "api-keys.yml").read_bytes() == before


def test_a_duplicate_name_keeps_the_first_key(stack):
    run("keys", "add", "alice", "--dir", str(stack))
    before = (stack / "api-keys.yml").read_bytes()
    again = run("keys", "add", "alice", "--dir", str(stack))
    assert again.exit_code == 2 and "revoke it first" in again.output
    assert (stack / "api-keys.yml").read_bytes() == before


def test_tls_ca_writes_the_certificate_and_says_how_to_trust_it(stack, tmp_path):
    (stack / "tls").mkdir()
    (stack / "tls" / "ca.crt").write_text(
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    )
    out = tmp_path / "ca.crt"
    result = run("tls", "ca", "--out", str(out), "--dir", str(stack))
    assert result.exit_code == 0, result.output
    assert out.read_text() == (stack / "tls" / "ca.crt").read_text()
    assert "update-ca-certificates" in result.output and "--install-on GROUP" in result.output
    other = tmp_path / "other.crt"
    missing = run(
        "tls", "ca", "--install-on", "classroom", "--out", str(other), "--dir", str(stack)
    )
    assert missing.exit_code == 2 and "no host in group 'classroom'" in missing.output
    assert not other.exists()  # checked before anything is written
    checked = run("tls", "ca", "--check", "--out", str(other), "--dir", str(stack))
    assert checked.exit_code == 0 and "would write" in checked.output
    assert not other.exists()  # --check writes nothing


def test_tls_ca_never_writes_over_a_file_that_is_no_certificate(stack, tmp_path):
    (stack / "tls").mkdir()
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    (stack / "tls" / "ca.crt").write_text(pem)
    secrets = (stack / "secrets.yml").read_bytes()
    inside = run("tls", "ca", "--out", str(stack / "secrets.yml"), "--dir", str(stack))
    assert inside.exit_code == 2 and "is not a certificate" in inside.output
    assert (stack / "secrets.yml").read_bytes() == secrets
    (stack / "tls" / "ca.key").write_text("-----BEGIN EC PRIVATE KEY-----\nK\n")
    key = run("tls", "ca", "--out", str(stack / "tls" / "ca.key"), "--dir", str(stack))
    assert key.exit_code == 2 and "certificate directory" in key.output
    assert (stack / "tls" / "ca.key").read_text().startswith("-----BEGIN EC PRIVATE KEY")
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    kept = run("tls", "ca", "--out", str(notes), "--dir", str(stack))
    assert kept.exit_code == 2 and "is not a certificate" in kept.output
    assert notes.read_text() == "mine\n"
    link = tmp_path / "link.crt"
    link.symlink_to(notes)
    linked = run("tls", "ca", "--out", str(link), "--dir", str(stack))
    assert linked.exit_code == 2 and "is a link" in linked.output
    assert notes.read_text() == "mine\n"
    earlier = tmp_path / "ca.crt"
    earlier.write_text("-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----\n")
    again = run("tls", "ca", "--out", str(earlier), "--dir", str(stack))
    assert again.exit_code == 0 and earlier.read_text() == pem  # an earlier copy is replaced
    (stack / "tls" / "ca.crt").write_text("garbage\n")
    bad = run("tls", "ca", "--out", str(tmp_path / "new.crt"), "--dir", str(stack))
    assert bad.exit_code == 2 and "not a PEM certificate" in bad.output


def test_tls_ca_rotate_retires_the_ca_then_redeploys_gateways_and_chat(stack, tmp_path,
                                                                     monkeypatch):  # fmt: skip
    from cli import runner as runner_module

    tls = stack / "tls"
    tls.mkdir()
    old = "-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----\n"
    (tls / "ca.crt").write_text(old)
    (tls / "ca.key").write_text("old key")
    jobs = []

    def install(stack_dir, job, display):  # the install makes the new CA
        jobs.append(job)
        (tls / "ca.crt").write_text(old.replace("OLD", "NEW"))
        return 0

    monkeypatch.setattr(runner_module, "run", install)
    out = tmp_path / "ca.crt"
    checked = run("tls", "ca", "--rotate", "--check", "--out", str(out), "--dir", str(stack))
    assert checked.exit_code == 2 and "does not take --check" in checked.output
    unasked = run("tls", "ca", "--rotate", "--out", str(out), "--dir", str(stack))
    assert unasked.exit_code == 2 and "--yes" in unasked.output
    assert (tls / "ca.crt").read_text() == old and not jobs and not out.exists()

    rotated = run("tls", "ca", "--rotate", "--yes", "--out", str(out), "--dir", str(stack))
    assert rotated.exit_code == 0, rotated.output
    [retired] = tls.glob("retired-ca-*")
    assert (retired / "ca.crt").read_text() == old and (retired / "ca.key").exists()
    assert stat.S_IMODE(retired.stat().st_mode) == 0o700
    [job] = jobs
    assert job.playbook == "install" and job.limit == "llm_gateway:llm_chat"
    assert "NEW" in out.read_text()  # the new CA, for the browsers


def test_a_rotation_that_made_no_new_ca_puts_the_old_one_back(stack, tmp_path, monkeypatch):
    """Every host unreachable: no task ran, no CA was made; the CA stays as it was."""
    from cli import runner as runner_module

    tls = stack / "tls"
    tls.mkdir()
    (tls / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----\n")
    (tls / "ca.key").write_text("old key")
    monkeypatch.setattr(runner_module, "run", lambda stack_dir, job, display: 4)
    result = run("tls", "ca", "--rotate", "--yes", "--out", str(tmp_path / "o"), "--dir",
                 str(stack))  # fmt: skip
    assert result.exit_code == 4 and "the stack's CA is the one it was" in result.output
    assert "OLD" in (tls / "ca.crt").read_text() and (tls / "ca.key").read_text() == "old key"
    assert not list(tls.glob("retired-ca-*")) and not (tmp_path / "o").exists()


@pytest.mark.parametrize("outcome", ["refused", "ok without a CA"])
def test_a_rotation_refused_or_making_no_ca_puts_the_old_one_back(stack, tmp_path, monkeypatch,
                                                                 outcome):  # fmt: skip
    """Refused before Ansible starts (a damaged record), or a run that made no CA (no
    gateway with the stack's CA in it): the CA stays, nothing is left pending."""
    from cli import pending
    from cli import runner as runner_module
    from cli.errors import LlmError

    tls = stack / "tls"
    tls.mkdir()
    (tls / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----\n")
    (tls / "ca.key").write_text("old key")

    def run_(stack_dir, job, display):
        if outcome == "refused":
            raise LlmError("runs/pending.json is damaged", "move it away")
        return 0

    monkeypatch.setattr(runner_module, "run", run_)
    result = run("tls", "ca", "--rotate", "--yes", "--out", str(tmp_path / "o"), "--dir",
                 str(stack))  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "the stack's CA is the one it was" in result.output
    if outcome != "refused":
        assert "no gateway in llm_gateway:llm_chat made a new CA" in result.output
    assert "OLD" in (tls / "ca.crt").read_text() and (tls / "ca.key").exists()
    assert not list(tls.glob("retired-ca-*")) and not (tmp_path / "o").exists()
    assert not pending.lacking(stack / "runs", "install")


def test_options_a_run_would_not_use_are_still_read(stack, tmp_path):
    """A key made while the gateway is off, or the CA written out, reach no host; a missing
    inventory or a --limit that matches nothing is still an error (a typo is not ignored)."""
    missing = run("keys", "add", "bob", "-i", str(tmp_path / "nope.ini"), "--dir", str(stack))
    assert missing.exit_code == 2 and "nope.ini" in missing.output, missing.output
    nobody = run("keys", "add", "bob", "--limit", "no-such-pc", "--dir", str(stack))
    assert nobody.exit_code == 2 and "'no-such-pc' matches no host" in nobody.output
    assert not (stack / "api-keys.yml").exists()  # nothing made
    tls = stack / "tls"
    tls.mkdir()
    (tls / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n")
    out = tmp_path / "ca.crt"
    refused = run("tls", "ca", "--out", str(out), "--limit", "no-such-pc", "--dir", str(stack))
    assert refused.exit_code == 2 and "'no-such-pc' matches no host" in refused.output
    assert not out.exists()


def test_a_rotation_without_a_gateway_names_no_limit_the_user_did_not_type(stack, tmp_path):
    tls = stack / "tls"
    tls.mkdir()
    (tls / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n")
    lab = tmp_path / "ollama-only.ini"
    lab.write_text("[llm_ollama]\ngpu-01\n")
    result = run("tls", "ca", "--rotate", "--yes", "-i", str(lab), "--dir", str(stack))
    assert result.exit_code == 2 and "has no gateway or chat host" in result.output
    assert "--limit" not in result.output, result.output
    assert (tls / "ca.crt").exists() and not list(tls.glob("retired-ca-*"))
