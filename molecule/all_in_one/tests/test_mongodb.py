"""MongoDB as each PC's LibreChat relies on it: healthy, private, authenticated, persistent."""

from __future__ import annotations

import base64
import json
import os
import shlex
from pathlib import Path

import yaml

SECRETS = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "stack" / "secrets.yml"


PROBE = """
import json, socket, sys
stream = socket.create_connection(("mongodb", 27017)).makefile("rw")
for message in json.loads(sys.argv[1]):
    stream.write(json.dumps(message) + "\\n")
    stream.flush()
    print(stream.readline().strip())
"""


def command(host, *messages):
    """Send stand-in protocol messages from a container on the chat network; return replies."""
    encoded = base64.b64encode(PROBE.encode()).decode()
    host.check_output(f"echo {encoded} | base64 -d > /tmp/probe.py")
    out = host.check_output(
        f"docker run --rm --network llm-chat -v /tmp/probe.py:/probe.py:ro {image(host)} "
        f"python3 /probe.py {shlex.quote(json.dumps(messages))}"
    )
    return [json.loads(line) for line in out.splitlines()]


def image(host):
    return host.check_output("docker inspect llm-mongodb --format '{{.Config.Image}}'")


def test_healthy_and_pinned(host):
    assert (
        host.check_output("docker inspect llm-mongodb --format '{{.State.Health.Status}}'")
        == "healthy"
    )
    assert image(host).endswith("/library/mongo:8.0.32")


def test_no_port_on_the_host(host):
    assert not [s for s in host.socket.get_listening_sockets() if s.endswith(":27017")]
    assert host.check_output("docker port llm-mongodb") == ""


def test_credentials_file_is_private_and_data_is_on_the_host(host):
    env = host.file("/opt/llm-stack/mongodb/mongodb.env")
    assert (env.mode, env.user) == (0o600, "root")
    assert host.file("/opt/llm-stack/mongodb/data/standin-state.json").exists


def test_authentication_is_required_and_the_app_user_works(host):
    secrets = yaml.safe_load(SECRETS.read_text())
    good = {
        "auth": {
            "user": "librechat",
            "password": secrets["mongodb_app_password"],
            "db": "LibreChat",
        }
    }
    bad = {"auth": {"user": "librechat", "password": "wrong", "db": "LibreChat"}}
    anonymous, refused = command(host, {"find": "users", "db": "LibreChat"}, bad)
    assert anonymous["ok"] == 0 and refused["ok"] == 0
    authed, found = command(host, good, {"find": "users", "db": "LibreChat"})
    assert authed["ok"] == 1 and found["ok"] == 1
