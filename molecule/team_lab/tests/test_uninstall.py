"""`llm uninstall`: keeps data unless --purge; a later install finds the kept models.

The test reinstalls what it removed, so no other test file depends on the order.
"""

from __future__ import annotations

import subprocess

from test_day2 import llm, models, status


def in_host(host: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", "exec", host, *argv], capture_output=True, text=True, check=False
    )


def test_uninstall_keeps_data_purge_deletes_it_and_one_reinstall_restores_both():
    """gpu-02 uninstalled (data kept), gpu-01 purged, then one reinstall of both
    (one install run, not two: the CI budget, docs/testing.md)."""
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

    refused = llm("uninstall", "--purge", "--limit", "gpu-01")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert in_host("gpu-01", "test", "-d", "/opt/llm-stack/ollama/models").returncode == 0
    purged = llm("uninstall", "--purge", "--yes", "--limit", "gpu-01")
    assert purged.returncode == 0, purged.stdout + purged.stderr
    assert in_host("gpu-01", "test", "-e", "/opt/llm-stack").returncode == 1
    assert "llm-ollama" not in in_host("gpu-01", "docker", "ps", "-a").stdout

    # Leave the lab as the other test files expect it: no test depends on running last.
    reinstall = llm("install", "--limit", "gpu-01:gpu-02")
    assert reinstall.returncode == 0, reinstall.stdout + reinstall.stderr
    assert set(models()["gpu-02"]) == kept  # found the kept models, nothing pulled
    assert status()[0] == 0
