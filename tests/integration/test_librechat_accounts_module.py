"""The librechat_accounts module against the LibreChat stand-in's faithful account scripts,
in a container as on a chat host: the teacher made first (the administrator), never a
student; a second run changes nothing; a student logs in with the initial password; no
password in the module's output, even with -vvv."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
STANDINS = REPO / "tests" / "standins"
IMAGE = "172.17.0.1:5000/librechat-ai/librechat:v0.8.8"
NAME = "llm-test-librechat-accounts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def chat():
    if docker("image", "inspect", IMAGE, check=False).returncode != 0:
        pytest.fail(f"needs the stand-in image {IMAGE} (scripts/build-test-images)")
    docker("rm", "-f", NAME, check=False)
    mongo_port, app_port = free_port(), free_port()
    docker("run", "-d", "--network", "host", "--name", NAME, "-v", f"{STANDINS}:/standins:ro",
           "--entrypoint", "sleep", IMAGE, "infinity")  # fmt: skip
    try:
        env = (
            f"MONGO_URI=mongodb://root:root-pass-1@127.0.0.1:{mongo_port}/LibreChat?authSource=admin\n"
            f"HOST=127.0.0.1\nPORT={app_port}\nCREDS_KEY={'a' * 64}\nCREDS_IV={'b' * 32}\n"
            f"JWT_SECRET={'j' * 32}\nJWT_REFRESH_SECRET={'r' * 32}\n"
        )
        config = "version: 1.3.17\nbalance:\n  enabled: true\n  startBalance: 1000\n"
        docker("exec", NAME, "sh", "-c", f"mkdir -p /tmp/db /tmp/initdb && printf '%s' '{env}' "
               f"> /app/.env && printf '%s' '{config}' > /app/librechat.yaml")  # fmt: skip
        docker("exec", "-d", "-e", "MONGO_INITDB_ROOT_USERNAME=root",
               "-e", "MONGO_INITDB_ROOT_PASSWORD=root-pass-1",
               "-e", "STANDIN_INITDB_DIR=/tmp/initdb", NAME,
               "python3", "/standins/mongodb/mongod.py", "--dbpath", "/tmp/db",
               "--port", str(mongo_port), "--bind_ip", "127.0.0.1")  # fmt: skip
        docker("exec", "-d", NAME, "python3", "/app/standin-server.py")
        url = f"http://127.0.0.1:{app_port}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(url + "/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the LibreChat stand-in did not become healthy")
        yield url
    finally:
        docker("rm", "-f", NAME, check=False)


def module(tmp_path: Path, verbose: bool = False, **args) -> tuple[dict, str]:
    """Run the module through ansible-playbook on this machine; returns its result and
    everything ansible-playbook printed."""
    playbook = tmp_path / "accounts.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - local_llm.stack.librechat_accounts: '{{ module_args }}'\n"
        "      register: result\n      failed_when: false\n"
        "    - ansible.builtin.copy:\n        content: '{{ result | to_json }}'\n"
        f"        dest: {tmp_path}/result.json\n        mode: '0600'\n"
    )
    extra = {"module_args": {"container": NAME, **args}}
    extra["ansible_python_interpreter"] = sys.executable
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,",
            "-c", "local", str(playbook), "-e", json.dumps(extra)]  # fmt: skip
    if verbose:
        argv.append("-vvv")
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((tmp_path / "result.json").read_text()), proc.stdout + proc.stderr


def login(url: str, email: str, password: str) -> int:
    body = json.dumps({"email": email, "password": password}).encode()
    request = urllib.request.Request(
        url + "/api/auth/login", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code


CLASS = [
    {"username": "tess", "email": "tess@school.example", "name": "Tess Teacher",
     "role": "teacher", "password": "tess-initial-1"},
    {"username": "ana", "email": "ana@school.example", "name": "Ana Lima",
     "role": "student", "password": "ana-initial-22"},
    {"username": "bo", "email": "bo@school.example", "name": "Bo Brown",
     "role": "student", "password": "bo-initial-333"},
]  # fmt: skip


def test_teacher_first_once_and_no_password_anywhere(chat, tmp_path):
    """Three module runs (the rest, list, reset, balance, prune, runs end to end in the
    team lab's tests/test_users.py): on a LibreChat with no account a roster without its
    teacher is refused (its first account becomes the administrator); with the teacher,
    the class is made (no password in the output even with -vvv) and a student logs in;
    a second run changes nothing; the install's administrator is not made there then."""
    refused, _ = module(tmp_path, accounts=CLASS[1:])
    # (the playbook here registers with failed_when: false; the message is the module's)
    assert "needs a teacher row" in refused.get("msg", ""), refused
    assert refused["llm_report"]["created"] == []

    first, out = module(tmp_path, verbose=True, accounts=CLASS, balance={"ana": 20000})
    assert first["changed"] and not first.get("failed"), first
    assert first["llm_report"]["created"] == ["tess", "ana", "bo"]
    assert not any(a["password"] in out for a in CLASS)  # not even with -vvv
    assert login(chat, "ana@school.example", "ana-initial-22") == 200

    again, _ = module(tmp_path, accounts=CLASS)
    assert not again["changed"], again
    assert again["llm_report"]["unchanged"] == ["tess", "ana", "bo"]

    # The install's administrator (only_if_empty): not made where accounts exist already.
    admin = {"username": "admin", "email": "admin@llm-stack.local", "name": "Administrator",
             "role": "teacher", "password": "admin-initial-4444"}  # fmt: skip
    skipped, _ = module(tmp_path, accounts=[admin], only_if_empty=True)
    assert not skipped["changed"] and skipped["llm_report"] == {"created": [], "existing": 3}
    assert login(chat, admin["email"], admin["password"]) != 200
