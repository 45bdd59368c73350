"""Ollama as a classroom PC's user meets it: healthy, private, configured, models served."""

from __future__ import annotations

import json

FACT = "/etc/ansible/facts.d/llm_ollama.fact"


def api(host, path):
    # The URL the role recorded (loopback here, checked below): a wrong address
    # fails the loopback test alone, not every test that asks the API something.
    url = json.loads(host.file(FACT).content_string)["url"]
    return json.loads(host.check_output(f"curl -fsS {url}{path}"))


def test_container_is_healthy_and_restarts(host):
    state = json.loads(host.check_output("docker inspect llm-ollama --format '{{json .State}}'"))
    assert state["Health"]["Status"] == "healthy"
    policy = host.check_output(
        "docker inspect llm-ollama --format '{{.HostConfig.RestartPolicy.Name}}'"
    )
    assert policy == "unless-stopped"


def test_api_listens_on_loopback_only(host):
    # Each PC's chat is the only one using its Ollama (the other PC's LibreChat
    # offers that PC's own): Ollama has no authentication, so not on the network.
    assert host.socket("tcp://127.0.0.1:11434").is_listening
    assert not host.socket("tcp://0.0.0.0:11434").is_listening
    address = host.interface("eth0").addresses[0]
    assert host.run(f"curl -fsS -m 3 http://{address}:11434/api/version").rc != 0


def test_image_is_the_pinned_upstream_name(host):
    image = host.check_output("docker inspect llm-ollama --format '{{.Config.Image}}'")
    assert image.endswith("/ollama/ollama:0.40.2")


def test_configured_models_are_served_and_stored_on_the_host(host):
    names = {m["name"] for m in api(host, "/api/tags")["models"]}
    assert names == {"llama3.2:latest", "qwen2.5:0.5b"}
    manifest = "/opt/llm-stack/ollama/models/manifests/registry.ollama.ai/library/llama3.2/latest"
    assert host.file(manifest).exists
    assert host.file("/opt/llm-stack/ollama/models/blobs").is_directory


def test_tuning_reaches_ollama_with_cpu_defaults(host):
    env = api(host, "/standin/env")
    assert env["OLLAMA_KEEP_ALIVE"] == "10m"
    assert env["OLLAMA_NUM_PARALLEL"] == "1"  # no GPU: one request at a time
    assert env["OLLAMA_FLASH_ATTENTION"] == "0"
    assert env["OLLAMA_MODELS"] == "/root/.ollama/models"
    assert env["OLLAMA_NO_CLOUD"] == "1"  # no ollama.com account, web search or :cloud models


def test_no_gpu_reservation_on_a_cpu_host(host):
    requests = host.check_output(
        "docker inspect llm-ollama --format '{{json .HostConfig.DeviceRequests}}'"
    )
    assert requests in ("null", "[]")


def test_stack_records_its_port_for_preflight(host):
    fact = json.loads(host.file(FACT).content_string)
    assert fact["ports"] == [11434]
