"""The Ollama hosts: serving on their private address for the chat host."""

from __future__ import annotations

testinfra_hosts = ["gpu-01", "gpu-02"]


def test_ollama_listens_on_the_private_address_only(host):
    address = host.interface("eth0").addresses[0]
    listening = host.socket.get_listening_sockets()
    assert f"tcp://{address}:11434" in listening
    assert "tcp://0.0.0.0:11434" not in listening


def test_no_chat_services_here(host):
    for name in ("llm-librechat", "llm-mongodb"):
        assert host.run(f"docker inspect {name}").rc != 0
