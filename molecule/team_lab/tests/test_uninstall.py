"""`llm uninstall`: keeps data unless --purge; a re-imaged host gets its models from the hub.

The test reinstalls what it removed, so no other test file depends on the order.
"""

from __future__ import annotations

from lab import in_host, llm
from team import models, spec, status, upstream


def test_uninstall_keeps_data_purge_deletes_it_and_a_reimaged_host_copies_from_the_hub():
    """gpu-02 uninstalled (data kept), then purged (data gone: a re-imaged machine), then
    `llm install --limit gpu-02` brings its models back from the hub (gpu-01, outside the
    limit) through the hub's model seed, not from the internet (docs/models.md). One
    reinstall in all (the CI budget, docs/testing.md)."""
    kept = set(models()["gpu-02"])
    result = llm("uninstall", "--limit", "gpu-02")
    assert result.returncode == 0, result.stdout + result.stderr
    # gpu-02 overrides ollama_dir (molecule.yml): uninstall acts there.
    assert "data kept in /srv/ollama/models" in result.stdout
    assert "llm-ollama" not in in_host("gpu-02", "docker", "ps", "-a").stdout
    assert in_host("gpu-02", "test", "-e", "/srv/ollama/compose.yml").returncode == 1
    blobs = in_host("gpu-02", "ls", "/srv/ollama/models/blobs").stdout.split()
    assert blobs, "the models were deleted without --purge"
    rc, report = status()
    assert rc == 1 and report["gpu-02"]["services"] == {}  # nothing deployed there now
    assert report["gpu-01"]["services"]["ollama"]["state"] == "running"  # the limit held

    refused = llm("uninstall", "--purge", "--limit", "gpu-02")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert in_host("gpu-02", "test", "-d", "/srv/ollama/models").returncode == 0
    # A stack root the stack did not make (gpu-02's Ollama lives in /srv/ollama, so
    # nothing of the stack is in /opt/llm-stack there): the purge leaves it, and says so.
    in_host("gpu-02", "sh", "-c", "mkdir /opt/llm-stack && echo mine > /opt/llm-stack/precious")
    purged = llm("uninstall", "--purge", "--yes", "--limit", "gpu-02")
    assert purged.returncode == 0, purged.stdout + purged.stderr
    assert in_host("gpu-02", "test", "-e", "/srv/ollama/models").returncode == 1
    assert "left /opt/llm-stack: no marker of the stack" in purged.stdout, purged.stdout
    assert in_host("gpu-02", "cat", "/opt/llm-stack/precious").stdout == "mine\n"
    in_host("gpu-02", "rm", "-r", "/opt/llm-stack")

    # The re-imaged machine: its models come from the hub's seed.
    upstream("/standin/reset", {})
    in_host("gpu-01", "sh", "-c", ": > /opt/llm-stack/ollama/seed/access.log")
    reinstall = llm("install", "--limit", "gpu-02")
    assert reinstall.returncode == 0, reinstall.stdout + reinstall.stderr
    assert set(models()["gpu-02"]) == kept
    seed_log = in_host("gpu-01", "cat", "/opt/llm-stack/ollama/seed/access.log").stdout
    assert " 206 " in seed_log  # gpu-02 copied blobs from the hub
    # The hub serves qwen2.5:0.5b itself: nothing of it came from upstream again (the hub
    # may fetch llama3.2, which it did not have, once for the room).
    assert upstream("/standin/stats")["blob_bytes"] <= spec("llama3.2")["size"]
    assert status()[0] == 0
