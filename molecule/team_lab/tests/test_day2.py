"""Day-2 commands through the real `llm`, from the controller, against this lab.

These tests take no `host` fixture: each runs once, not once per host.
"""

from __future__ import annotations

import json

from lab import HOST_OFF_VARS, STACK, in_host, llm
from team import OLLAMA_HOSTS, models, status


def test_status_reports_every_host_service_and_model():
    rc, report = status()
    assert rc == 0, report
    assert set(report) == {"chat", "gw", *OLLAMA_HOSTS}
    assert report["gw"]["services"] == {}  # a gateway host; the security module is off
    assert set(report["chat"]["services"]) == {"librechat", "mongodb", "meilisearch"}
    assert all(s["health"] == "healthy" for s in report["chat"]["services"].values())
    assert report["chat"]["services"]["librechat"]["url"].endswith(":3090")  # librechat_port
    assert report["gpu-02"]["services"]["ollama"]["url"].endswith(":11500")  # ollama_port
    assert report["chat"]["models"] is None  # no Ollama on the chat host
    for gpu in OLLAMA_HOSTS:
        # Each Ollama host runs the seed others copy models from (docs/models.md).
        assert set(report[gpu]["services"]) == {"ollama", "model_seed"}
        assert report[gpu]["services"]["ollama"]["url"].startswith("http://")
    assert [m["name"] for m in report["gpu-01"]["models"]] == ["qwen2.5:0.5b"]
    assert {m["name"] for m in report["gpu-02"]["models"]} == {"qwen2.5:0.5b", "llama3.2:latest"}
    assert all(m["size"] > 0 for m in report["gpu-02"]["models"])


def test_status_table_names_hosts_and_urls():
    result = llm("status")
    assert result.returncode == 0, result.stdout + result.stderr
    for word in ("chat", "gpu-01", "gpu-02", "librechat", "healthy", "models: qwen2.5:0.5b"):
        assert word in result.stdout


def test_stop_and_start_one_service_on_one_host():
    stopped = llm("stop", "ollama", "--limit", "gpu-02")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    rc, report = status()
    assert rc == 1  # a service is down: status says so in its exit code
    assert report["gpu-02"]["services"]["ollama"]["state"] == "exited"
    assert report["gpu-01"]["services"]["ollama"]["state"] == "running"  # the limit held
    assert report["chat"]["services"]["librechat"]["state"] == "running"

    started = llm("start", "ollama", "--limit", "gpu-02")
    assert started.returncode == 0, started.stdout + started.stderr
    rc, report = status()
    assert rc == 0, report
    assert report["gpu-02"]["services"]["ollama"]["health"] == "healthy"


def test_restart_librechat_only(tmp_path):
    started = ("docker", "inspect", "-f", "{{.State.StartedAt}}", "llm-librechat", "llm-mongodb")
    before = in_host("chat", *started, check=True).stdout.split()
    restarted = llm("restart", "librechat")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    after = in_host("chat", *started, check=True).stdout.split()
    assert after[0] != before[0]  # LibreChat restarted
    assert after[1] == before[1]  # MongoDB untouched
    rc, report = status()
    assert rc == 0 and report["chat"]["services"]["librechat"]["health"] == "healthy"


def test_unreachable_host_is_a_row_not_a_traceback(tmp_path):
    inventory = tmp_path / "with-ghost.yml"
    data = {
        "all": {"children": {"llm_ollama": {"hosts": {
            "gpu-01": {"ansible_connection": "community.docker.docker"},
            "ghost": {"ansible_connection": "community.docker.docker", **HOST_OFF_VARS},
        }}}}
    }  # fmt: skip
    inventory.write_text(json.dumps(data))
    result = llm("status", "--json", inventory=str(inventory))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["gpu-01"]["reachable"] is True
    assert report["ghost"]["reachable"] is False and report["ghost"]["error"]


def test_models_list_is_a_matrix_of_hosts():
    listed = models()
    assert set(listed) == set(OLLAMA_HOSTS)  # Ollama hosts only, not the chat host
    assert set(listed["gpu-01"]) == {"qwen2.5:0.5b"}
    assert set(listed["gpu-02"]) == {"qwen2.5:0.5b", "llama3.2:latest"}
    assert all(size > 0 for host in listed.values() for size in host.values())
    table = llm("models", "list")
    assert "qwen2.5:0.5b" in table.stdout and "gpu-01" in table.stdout


def newest_run_tasks() -> set[str]:
    """The names of the tasks the newest `llm` run started (its runner artifacts)."""
    runs = max((STACK / "runs" / "artifacts").iterdir(), key=lambda p: p.stat().st_mtime)
    events = (json.loads(f.read_text()) for f in (runs / "job_events").glob("*.json"))
    return {e["event_data"]["task"] for e in events if e.get("event") == "playbook_on_task_start"}


def test_models_add_shows_progress_then_sync_prune_and_remove_restore():
    added = llm("models", "add", "llama3.2", "--limit", "gpu-01")
    assert added.returncode == 0, added.stdout + added.stderr
    # Not a terminal: one line per host and model as the pull advances, then the result.
    assert "gpu-01: llama3.2:latest: success" in added.stdout, added.stdout
    assert "gpu-02" not in added.stdout.split("Models")[0]  # the limit held
    assert "llama3.2:latest" in models()["gpu-01"]

    again = llm("models", "add", "llama3.2", "--limit", "gpu-01")
    assert again.returncode == 0 and "already present" in again.stdout
    # Ready (complete and listed): said by the blob check; no pull started, no copy planned.
    assert (
        newest_run_tasks() & {"Start pulling llama3.2:latest", "Plan the copies: llama3.2:latest"}
        == set()
    )

    pruned = llm("models", "sync", "--prune", "--yes")
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert set(models()["gpu-01"]) == {"qwen2.5:0.5b"}  # llama3.2 is not configured there
    assert set(models()["gpu-02"]) == {"qwen2.5:0.5b", "llama3.2:latest"}  # it is here

    removed = llm("models", "remove", "qwen2.5:0.5b", "--limit", "gpu-02", "--yes")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert set(models()["gpu-02"]) == {"llama3.2:latest"}
    synced = llm("models", "sync")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert set(models()["gpu-02"]) == {"qwen2.5:0.5b", "llama3.2:latest"}


def test_a_model_that_does_not_fit_is_refused_with_the_numbers():
    before = models()
    # Ask for more free space than any disk has: the pull must stop when Ollama announces it.
    # A model the lab's stand-in registry has (molecule.yml, STANDIN_OLLAMA_UPSTREAM) and
    # no other test uses: the stopped pull leaves its partial download behind, as Ollama does.
    reserve = "ollama_disk_reserve_mb=999999999"
    result = llm("models", "add", "llama3.2:1b", "--limit", "gpu-01", "-e", reserve)
    assert result.returncode == 1
    assert "not enough disk: llama3.2:1b needs" in result.stdout
    assert "GB free" in result.stdout
    assert models() == before


def test_bad_model_name_changes_nothing():
    before = models()
    result = llm("models", "add", "Llama 3!")
    assert result.returncode == 2
    assert result.stderr.startswith("llm: error: 'Llama 3!' is not a valid Ollama model name")
    assert models() == before


def test_remove_without_yes_is_refused_when_nobody_can_answer():
    result = llm("models", "remove", "qwen2.5:0.5b")
    assert result.returncode == 2 and "add --yes" in result.stderr
    assert "qwen2.5:0.5b" in models()["gpu-01"]


def test_logs_of_one_service_on_one_host():
    result = llm("logs", "ollama", "--host", "gpu-01", "--tail", "5")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "==> gpu-01: ollama <=="
    assert 1 <= len(lines) - 1 <= 5
    assert "gpu-02" not in result.stdout


def test_logs_from_a_host_with_an_overridden_port_and_dir():
    result = llm("logs", "ollama", "--host", "gpu-02", "--tail", "50")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == "==> gpu-02: ollama <=="
    assert "GET /api/tags" in result.stdout  # the stand-in's access log: the right container


def test_logs_only_from_hosts_running_the_service():
    result = llm("logs", "librechat", "--tail", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "==> chat: librechat <==" in result.stdout
    assert "gpu-0" not in result.stdout


def test_debug_bundle_from_every_host_with_no_secret(tmp_path):
    import tarfile

    import yaml

    result = llm("debug", "--output", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    bundle = next(tmp_path.glob("llm-debug-*.tar.gz"))
    assert bundle.stat().st_mode & 0o777 == 0o600
    secrets = [v for v in yaml.safe_load((STACK / "secrets.yml").read_text()).values() if v]
    with tarfile.open(bundle) as archive:
        texts = {
            m.name.split("/", 1)[1]: archive.extractfile(m).read().decode(errors="replace")
            for m in archive.getmembers()
        }

    def docker_ps(host: str) -> str:  # `docker ps -a`, filtered to the host's stack containers
        return next(v for k, v in texts.items() if k.startswith(f"{host}/cmd/docker_ps_-a"))

    for host in ("chat", "gpu-01", "gpu-02"):
        assert "CONTAINER ID" in docker_ps(host)
        assert f"{host}/cmd/df_-h.txt" in texts
        # What each role recorded about the host (URLs, ports) is in the bundle.
        assert any(k.startswith(f"{host}/file/etc/ansible/facts.d/llm_") for k in texts), host
    assert "llm-librechat" in docker_ps("chat") and "llm-ollama" not in docker_ps("chat")
    assert '"url"' in texts["chat/file/etc/ansible/facts.d/llm_librechat.fact.txt"]
    # gpu-02's Ollama lives in an overridden ollama_dir: its configuration comes from there.
    assert "ollama:" in texts["gpu-02/file/srv/ollama/compose.yml.txt"]
    assert "gpu-02/file/opt/llm-stack/ollama/compose.yml.txt" not in texts
    env = texts["chat/file/opt/llm-stack/librechat/.env.txt"]
    assert "CREDS_KEY=" in env and "<redacted>" in env  # the real .env was read, then redacted
    for name, text in texts.items():
        assert not any(secret in text for secret in secrets), name
    # Nor in what ansible-runner kept of the run.
    newest = max((STACK / "runs" / "artifacts").iterdir(), key=lambda p: p.stat().st_mtime)
    for path in newest.rglob("*"):
        if path.is_file():
            content = path.read_text(errors="replace")
            assert not any(secret in content for secret in secrets), path


def conversations() -> list[dict]:
    out = in_host(
        "chat", "curl", "-fsS", "http://127.0.0.1:3090/api/standin/conversations", check=True
    ).stdout
    return json.loads(out)


def add_conversation(title: str) -> None:
    in_host("chat", "curl", "-fsS", "-X", "POST", "-H", "Content-Type: application/json",
            "-d", json.dumps({"title": title}), "http://127.0.0.1:3090/api/standin/conversations",
            check=True)  # fmt: skip


def test_backup_and_restore_round_trip(tmp_path):
    import hashlib
    import shutil

    add_conversation("kept by the backup")
    backed_up = llm("backup")
    assert backed_up.returncode == 0, backed_up.stdout + backed_up.stderr
    archive = max((STACK / "backups").glob("*/chat.archive.gz"), key=lambda p: p.stat().st_mtime)
    assert archive.stat().st_mode & 0o777 == 0o600
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert f"{digest}  chat.archive.gz" in (archive.parent / "SHA256SUMS").read_text()
    assert f"sha256 {digest}" in backed_up.stdout
    assert not list((STACK / "backups").glob("*/gpu-0*"))  # chat hosts only

    add_conversation("written after the backup")
    restored = llm("restore", str(archive), "--yes")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    titles = [c["title"] for c in conversations()]
    assert "kept by the backup" in titles
    assert "written after the backup" not in titles

    # A damaged copy is refused before any host is touched.
    damaged = tmp_path / "chat.archive.gz"
    shutil.copy(archive, damaged)
    shutil.copy(archive.parent / "SHA256SUMS", tmp_path / "SHA256SUMS")
    with damaged.open("ab") as handle:
        handle.write(b"x")
    refused = llm("restore", str(damaged), "--yes")
    assert refused.returncode == 2 and "does not match its checksum" in refused.stderr
    assert "kept by the backup" in [c["title"] for c in conversations()]


def test_rotating_secrets_redeploys_what_uses_them_once():
    """Meilisearch's key and both MongoDB passwords in one rotation: one redeploy."""
    import yaml

    names = ("meilisearch_master_key", "mongodb_app_password", "mongodb_root_password")
    before = yaml.safe_load((STACK / "secrets.yml").read_text())
    result = llm("secrets", "rotate", *names, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    after = yaml.safe_load((STACK / "secrets.yml").read_text())
    for name in names:
        assert after[name] != before[name] and after[name] not in result.stdout + result.stderr
    env = in_host("chat", "cat", "/opt/llm-stack/librechat/meilisearch.env", check=True).stdout
    key = "meilisearch_master_key"
    assert after[key] in env and before[key] not in env
    # LibreChat's health needs Meilisearch to accept the new key and MongoDB its
    # new application password: both restarted with the new values.
    rc, report = status()
    assert rc == 0, report
    assert report["chat"]["services"]["librechat"]["health"] == "healthy"
    # ...and a backup authenticates as the administrator with the new root password.
    backed_up = llm("backup")
    assert backed_up.returncode == 0, backed_up.stdout + backed_up.stderr
