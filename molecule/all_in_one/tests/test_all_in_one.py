"""Each classroom PC, whole stack: what a student opening LibreChat relies on."""

from __future__ import annotations

import json

import pytest
import yaml

CONTAINERS = ("llm-ollama", "llm-mongodb", "llm-librechat", "llm-meilisearch")


def health(host, name):
    return host.check_output(f"docker inspect {name} --format '{{{{.State.Health.Status}}}}'")


@pytest.mark.parametrize("name", CONTAINERS)
def test_every_service_runs_and_is_healthy(host, name):
    assert health(host, name) == "healthy"


def test_librechat_answers_on_every_interface(host):
    assert host.socket("tcp://0.0.0.0:3080").is_listening
    assert host.check_output("curl -fsS http://127.0.0.1:3080/health") == "OK"


def test_ollama_and_mongodb_are_not_on_a_public_interface(host):
    listening = host.socket.get_listening_sockets()
    assert "tcp://127.0.0.1:11434" in listening
    assert not [s for s in listening if s.endswith(":11434") and "127.0.0.1" not in s]
    assert not [s for s in listening if s.endswith(":27017")]
    assert not [s for s in listening if s.endswith(":7700")]  # Meilisearch


def test_secret_files_are_private(host):
    for path in (
        "/opt/llm-stack/librechat/.env",
        "/opt/llm-stack/librechat/meilisearch.env",
        "/opt/llm-stack/mongodb/mongodb.env",
    ):
        f = host.file(path)
        assert (f.mode, f.user) == (0o600, "root"), path


def test_librechat_offers_this_pcs_own_ollama_only(host):
    # librechat_ollama_scope auto: every chat host runs Ollama too, so one
    # endpoint, this PC's Ollama over the shared Docker network, not the room's.
    config = yaml.safe_load(host.file("/opt/llm-stack/librechat/librechat.yaml").content_string)
    (endpoint,) = config["endpoints"]["custom"]
    assert endpoint["name"] == "Ollama"
    assert endpoint["baseURL"] == "http://ollama:11434/v1/"
    assert endpoint["models"]["fetch"] is True
    assert endpoint["titleModel"] == "current_model"


def test_librechat_fetches_the_models_ollama_serves(host):
    models = json.loads(host.check_output("curl -fsS http://127.0.0.1:3080/api/models"))
    assert models.keys() == {"Ollama"}
    assert sorted(models["Ollama"]) == ["llama3.2:latest", "qwen2.5:0.5b"]


def test_registration_follows_the_setting(host):
    # Configured off; the side effect step switched it on (and checked it was off before).
    config = json.loads(host.check_output("curl -fsS http://127.0.0.1:3080/api/config"))
    assert config["registrationEnabled"] is True
    assert config["searchEnabled"] is True  # and /health, above, proves Meilisearch took the key
    assert "ALLOW_REGISTRATION=true" in host.file("/opt/llm-stack/librechat/.env").content_string


def test_chat_data_survives_compose_down_and_up(host):
    # About a minute per PC (stop, then wait for health): the same roles and
    # settings on both, so one PC proves it (docs/testing.md, "The CI budget").
    if host.backend.get_hostname() != "pc-02":
        pytest.skip("checked on pc-02 only")
    post = (
        "curl -fsS -X POST -H 'Content-Type: application/json' "
        '-d \'{"title": "survives restarts"}\' http://127.0.0.1:3080/api/standin/conversations'
    )
    host.check_output(post)
    for project in ("librechat", "mongodb"):
        host.check_output(f"docker compose --project-directory /opt/llm-stack/{project} down")
    for project in ("mongodb", "librechat"):
        host.check_output(
            f"docker compose --project-directory /opt/llm-stack/{project} up -d --wait"
        )
    stored = json.loads(
        host.check_output(
            "curl -fsS --retry 10 --retry-all-errors --retry-delay 2 "
            "http://127.0.0.1:3080/api/standin/conversations"
        )
    )
    assert {"title": "survives restarts"} in stored


def test_a_starting_container_is_probed_every_second(host):
    """Debian 13's Docker speaks API 1.45: each healthcheck has start_interval 1s, so a
    service counts as healthy about when it is, not at the next 10 s interval."""
    for container in ("llm-ollama", "llm-mongodb", "llm-librechat"):
        check = json.loads(
            host.check_output(f"docker inspect -f '{{{{json .Config.Healthcheck}}}}' {container}")
        )
        assert check["StartInterval"] == 1_000_000_000 and check["StartPeriod"] > 0, check


def test_generated_compose_projects_pass_docker_compose_config(host):
    for project in ("ollama", "mongodb", "librechat"):
        assert host.run(f"docker compose -f /opt/llm-stack/{project}/compose.yml config -q").rc == 0
