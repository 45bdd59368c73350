"""`llm install` refuses bad settings in its first play, before any host changes.

Runs against this machine in --check mode, so even a regression cannot change
it; the assertions show the run stopped at the checks with a clear message.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import assert_no_secret_leaked

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
LOCAL = "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3"
ALL_IN_ONE = f"[llm_ollama]\n{LOCAL}\n\n[llm_chat]\nlocalhost\n"
CHAT_ONLY = f"[llm_chat]\n{LOCAL}\n"
# This machine is not what is under test: relax the host checks.
RELAXED = [
    "-e",
    "preflight_min_free_disk_gb=1",
    "-e",
    "preflight_min_memory_mb=1",
    "-e",
    "preflight_require_time_sync=false",
    "-e",
    '{"preflight_service_ports": {}}',
]


@pytest.fixture
def stack(tmp_path):
    target = tmp_path / "stack"
    subprocess.run(
        [sys.executable, "-m", "cli.main", "init", "--dir", str(target)],
        check=True,
        capture_output=True,
    )
    return target


def install(stack: Path, inventory: str, *extra: str) -> subprocess.CompletedProcess:
    (stack / "lab.ini").write_text(inventory)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            "install",
            "--check",
            "--dir",
            str(stack),
            "-i",
            str(stack / "lab.ini"),
            *RELAXED,
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )


def assert_stopped_at_the_checks(result: subprocess.CompletedProcess, message: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert message in output, output
    assert "Traceback" not in output
    # The host dropped out in the first play: the later plays found no host to run on.
    assert "PLAY Check every host and every setting before changing anything" in output
    assert "PLAY Install the container runtime" not in output


def with_host_vars(host_vars: str) -> str:
    """ALL_IN_ONE with this host's variables set in the inventory (not checked by the CLI)."""
    return f"[llm_ollama]\n{LOCAL} {host_vars}\n\n[llm_chat]\nlocalhost\n"


def assert_refused_before_ansible(stack: Path, result: subprocess.CompletedProcess, message: str):
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (stack / "runs" / "artifacts").exists()


def test_invalid_model_name(stack):
    given = install(stack, ALL_IN_ONE, "-e", '{"ollama_models": ["llama3.2", "bad name!"]}')
    assert_refused_before_ansible(stack, given, '-e ollama_models: "bad name!" is not a valid')
    result = install(stack, with_host_vars('ollama_models=\'["llama3.2", "bad name!"]\''))
    assert_stopped_at_the_checks(result, 'ollama_models: "bad name!" is not a valid Ollama')


def test_port_out_of_range(stack):
    given = install(stack, ALL_IN_ONE, "-e", "ollama_port=70000")
    assert_refused_before_ansible(stack, given, '-e ollama_port: "70000" is not a port number')
    result = install(stack, with_host_vars("ollama_port=70000"))
    assert_stopped_at_the_checks(result, "ollama_port: 70000 is not a port number (1-65535)")


def test_librechat_port_out_of_range(stack):
    result = install(stack, with_host_vars("librechat_port=0"))
    assert_stopped_at_the_checks(result, "librechat_port: 0 is not a port number (1-65535)")


def test_missing_secret(stack):
    secrets = stack / "secrets.yml"
    data = yaml.safe_load(secrets.read_text())
    del data["librechat_jwt_secret"]
    secrets.write_text(yaml.safe_dump(data))
    result = install(stack, ALL_IN_ONE)
    assert_stopped_at_the_checks(result, "librechat_jwt_secret is missing")


def test_chat_host_without_any_ollama_host_is_refused_before_ansible(stack):
    result = install(stack, CHAT_ONLY)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "has chat hosts but no host in llm_ollama" in result.stderr
    assert not (stack / "runs" / "artifacts").exists()


def test_chat_host_without_any_ollama_host_without_the_cli(stack, tmp_path):
    """The playbook itself refuses too, for users of the bare collection."""
    (tmp_path / "lab.ini").write_text(CHAT_ONLY)
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [
            bin_dir / "ansible-playbook",
            "playbooks/install.yml",
            "--check",
            "-i",
            tmp_path / "lab.ini",
            "-e",
            f"@{stack / 'secrets.yml'}",  # as a bare-collection user passes vaulted secrets
            *RELAXED,
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "the inventory group llm_ollama has no hosts" in result.stdout, result.stdout
    assert "PLAY [Install the container runtime]" not in result.stdout  # no host left to run it
    assert "Install the Docker packages" not in result.stdout


def test_a_public_certificate_needs_the_gateways_name_for_librechat(stack):
    """With ACME or the user's own certificate, LibreChat cannot reach the gateway at its
    private address (the certificate does not name it): said before anything changes."""
    secured = ALL_IN_ONE + "\n[llm_gateway]\nlocalhost\n"
    settings = '{"llm_modules": ["security"], "gateway_cert_source": "acme"}'
    result = install(stack, secured, "-e", settings)
    assert_stopped_at_the_checks(result, "has a certificate from acme, which does not name")
    assert "set librechat_gateway_url" in result.stdout
    named = (
        '{"llm_modules": ["security"], "gateway_cert_source": "acme", '
        '"librechat_gateway_url": "https://chat.example.org"}'
    )
    named_run = install(stack, secured, "-e", named).stdout
    # Past LibreChat's checks, on to the gateway's own (ACME wants an e-mail address).
    assert "does not name" not in named_run and "set gateway_acme_email" in named_run, named_run


def test_the_disk_check_measures_where_the_models_will_go(stack, tmp_path):
    """An inventory that moves Ollama's directory (a larger disk) is checked there."""
    models = tmp_path / "big-disk" / "ollama"
    result = install(stack, ALL_IN_ONE, "-e", f'{{"ollama_dir": "{models}"}}',
                     "-e", "preflight_min_free_disk_gb=999999")  # fmt: skip
    assert_stopped_at_the_checks(result, f"(for {models}), 999999 GB needed")


def test_secret_values_never_reach_the_output_or_the_artifacts(stack):
    result = install(stack, with_host_vars("ollama_port=70000"), "-v")
    assert result.returncode == 1
    assert_no_secret_leaked(stack, result.stdout, result.stderr)


def test_host_without_a_gpu_skips_the_gpu_roles(stack):
    """No GPU here: the host is in no drivers stage (install.yml's first play groups each host
    by the stages it has work in), so that play runs on no host, and the recap says CPU."""
    import json

    result = install(stack, ALL_IN_ONE, "--tags", "gpu")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no GPU found: CPU inference" in output
    events = sorted(
        (json.loads(path.read_text())
         for path in (stack / "runs" / "artifacts").glob("*/job_events/*.json")),
        key=lambda e: e["counter"],
    )  # fmt: skip
    in_play: dict[str, list[str]] = {}
    play = ""
    for event in events:
        if event["event"] == "playbook_on_play_start":
            play = event["event_data"].get("play", "")
            in_play.setdefault(play, [])
        elif event["event"] in ("runner_on_ok", "runner_on_skipped", "runner_on_failed"):
            in_play[play].append(event["event_data"]["task"])
    assert in_play["Install GPU drivers where there is a GPU"] == []
    # The first play ran on this host and did not put it in the drivers stage.
    assert (
        "Note the install stages this host takes part in"
        in in_play["Check every host and every setting before changing anything"]
    )
    ran = [
        e["event_data"].get("role")
        for e in events
        if e["event"] in ("runner_on_ok", "runner_on_failed")
    ]
    assert not {"gpu_nvidia", "gpu_rocm", "gpu_driver"} & set(ran)


def test_vault_encrypted_secrets_reach_the_playbook_and_nowhere_else(stack, tmp_path):
    """With secrets.yml under ansible-vault, the first play still reads every secret."""
    import os

    plain = yaml.safe_load((stack / "secrets.yml").read_text())
    password = tmp_path / "vault-pass"
    password.write_text("lab vault password\n")
    env = dict(os.environ, LLM_VAULT_PASSWORD_FILE=str(password))
    encrypt = subprocess.run(
        [sys.executable, "-m", "cli.main", "secrets", "encrypt", "--dir", str(stack)],
        capture_output=True, text=True, cwd=REPO, env=env, check=False,
    )  # fmt: skip
    assert encrypt.returncode == 0, encrypt.stderr
    (stack / "lab.ini").write_text(ALL_IN_ONE)
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "install", "--check", "--tags", "preflight",
         "--dir", str(stack), "-i", str(stack / "lab.ini"), *RELAXED],
        capture_output=True, text=True, cwd=REPO, env=env, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Load the stack's secrets" not in output  # no failure there
    artifacts = [p for p in (stack / "runs" / "artifacts").rglob("*") if p.is_file()]
    for path in artifacts:
        content = path.read_text(errors="replace")
        assert not any(secret in content for secret in plain.values()), path


def test_a_cpu_without_avx_is_refused_for_mongodb(stack, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu vme sse sse2 ssse3 sse4_1 sse4_2\n")
    result = install(stack, ALL_IN_ONE, "-e", f"mongodb_cpuinfo_path={cpuinfo}")
    assert_stopped_at_the_checks(result, "this CPU has no AVX, and MongoDB 8.0.32")
    assert "Intel Sandy" in result.stdout


def test_a_cpu_with_avx_passes_the_mongodb_check(stack, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse4_2 avx avx2\n")
    result = install(stack, ALL_IN_ONE, "-e", f"mongodb_cpuinfo_path={cpuinfo}")
    output = result.stdout + result.stderr
    assert "no AVX" not in output
    assert "PLAY Install the container runtime" in output, output  # past the checks
