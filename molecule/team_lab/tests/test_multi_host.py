"""One chat host, two Ollama hosts: the chat reaches both, nothing else is exposed."""

from __future__ import annotations

import json

import pytest
import yaml
from team import OLLAMA_HOSTS

testinfra_hosts = ["chat"]


@pytest.fixture(scope="module")
def endpoints(host):
    config = yaml.safe_load(host.file("/opt/llm-stack/librechat/librechat.yaml").content_string)
    return {e["name"]: e for e in config["endpoints"]["custom"]}


def test_one_endpoint_per_ollama_host_at_its_own_port(endpoints):
    assert set(endpoints) == {f"Ollama {gpu}" for gpu in OLLAMA_HOSTS}
    for endpoint in endpoints.values():
        assert endpoint["models"]["fetch"] is True
        assert endpoint["titleModel"] == "current_model"
        assert endpoint["baseURL"].startswith("http://172.")
    # gpu-02 overrides ollama_port (molecule.yml): its endpoint follows.
    assert endpoints["Ollama gpu-01"]["baseURL"].endswith(":11434/v1/")
    assert endpoints["Ollama gpu-02"]["baseURL"].endswith(":11500/v1/")


def test_each_base_url_answers_a_model_list_from_the_chat_host(host, endpoints):
    for endpoint in endpoints.values():
        listing = json.loads(host.check_output(f"curl -fsS {endpoint['baseURL']}models"))
        assert listing["object"] == "list" and listing["data"], endpoint["name"]


def test_librechat_sees_each_hosts_own_models_on_its_overridden_port(host):
    # librechat_port is 3090 on this host (molecule.yml); nothing answers on the default.
    assert host.run("curl -fsS http://127.0.0.1:3080/health").rc != 0
    models = json.loads(host.check_output("curl -fsS http://127.0.0.1:3090/api/models"))
    assert models == {
        "Ollama gpu-02": ["llama3.2:latest", "qwen2.5:0.5b"],
        "Ollama gpu-01": ["qwen2.5:0.5b"],
    }


def test_the_chat_host_runs_no_ollama(host):
    assert host.run("docker inspect llm-ollama").rc != 0
    assert (
        host.check_output("docker inspect llm-librechat --format '{{.State.Health.Status}}'")
        == "healthy"
    )
