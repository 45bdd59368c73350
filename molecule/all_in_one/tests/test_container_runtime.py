"""Docker as a user gets it, on each classroom PC: running, Compose v2, the configured
daemon (Debian 13's packages; the container_runtime role has no scenario of its own)."""

from __future__ import annotations

import json
import os

REGISTRY = os.environ.get("LLM_TEST_REGISTRY", "172.17.0.1:5000")


def test_docker_runs_and_starts_at_boot(host):
    docker = host.service("docker")
    assert docker.is_running and docker.is_enabled


def test_compose_v2_plugin(host):
    out = host.check_output("docker compose version --short")
    assert out.split(".")[0] == "2"


def test_daemon_json_rotates_logs_and_trusts_the_lab_registry(host):
    config = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert config["log-opts"] == {"max-size": "20m", "max-file": "3"}
    assert config["insecure-registries"] == [REGISTRY]
    assert "runtimes" not in config  # no NVIDIA GPU here
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert f"{REGISTRY}" in json.dumps(info["RegistryConfig"])
    assert info["LoggingDriver"] == "json-file"


def test_pulls_and_runs_from_the_lab_registry(host):
    image = f"{REGISTRY}/llm-test/probe:1"
    host.check_output(f"docker pull -q {image}")
    assert host.check_output(f"docker run --rm {image} echo ran") == "ran"
