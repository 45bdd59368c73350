"""The Ollama hosts: serving on their private address for the chat host."""

from __future__ import annotations

testinfra_hosts = ["gpu-01", "gpu-02"]


PORTS = {"gpu-01": 11434, "gpu-02": 11500}  # gpu-02 overrides ollama_port (molecule.yml)


def test_ollama_listens_on_the_private_address_only(host):
    address = host.interface("eth0").addresses[0]
    port = PORTS[host.backend.get_hostname()]
    listening = host.socket.get_listening_sockets()
    assert f"tcp://{address}:{port}" in listening
    assert f"tcp://0.0.0.0:{port}" not in listening


def test_an_overridden_ollama_dir_holds_the_project_and_the_models(host):
    if host.backend.get_hostname() != "gpu-02":
        return
    assert host.file("/srv/ollama/compose.yml").exists
    assert host.file("/srv/ollama/models/manifests").is_directory
    assert not host.file("/opt/llm-stack/ollama").exists


def test_no_chat_services_here(host):
    for name in ("llm-librechat", "llm-mongodb"):
        assert host.run(f"docker inspect {name}").rc != 0
