"""The LibreChat stand-in's account scripts and password log-in, against the mongod stand-in.

Both stand-ins run as plain processes on loopback with temporary directories: with this
interpreter when it has bcrypt and PyYAML, else inside the LibreChat stand-in image (which
has them) on the host network. The scripts are driven the way the `llm` CLI must drive
the real image: each answer written after its prompt shows.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

STANDINS = Path(__file__).resolve().parents[1] / "standins"
IMAGE = "172.17.0.1:5000/librechat-ai/librechat:v0.8.8"
ROOT_PASSWORD = "root-secret-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stand:
    """Where the stand-in processes run: here, or in a container of the stand-in image."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.container: str | None = None
        self.procs: list[subprocess.Popen[bytes]] = []
        local = all(importlib.util.find_spec(m) for m in ("bcrypt", "yaml"))
        if local:
            self.python = sys.executable
            return
        if not shutil.which("docker"):
            pytest.skip("needs bcrypt and PyYAML here, or docker with the stand-in image")
        probe = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True)
        if probe.returncode != 0:
            pytest.skip(f"needs bcrypt here, or the image {IMAGE} (scripts/build-test-images)")
        self.python = "python3"
        mounts = [f"{STANDINS}:{STANDINS}:ro", f"{tmp}:{tmp}"]
        self.container = subprocess.run(
            ["docker", "run", "-d", "--rm", "--network", "host"]
            + [a for m in mounts for a in ("-v", m)]
            + ["--entrypoint", "sleep", IMAGE, "infinity"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    def command(self, argv: list[str], env: dict[str, str]) -> list[str]:
        if self.container is None:
            return argv
        flags = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
        return ["docker", "exec", "-i", *flags, self.container, *argv]

    def spawn(self, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        full_env = {**os.environ, **env} if self.container is None else None
        return subprocess.Popen(
            self.command(argv, env),
            env=full_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def start(self, argv: list[str], env: dict[str, str]) -> None:
        self.procs.append(self.spawn(argv, env))

    def close(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()
        if self.container:
            subprocess.run(["docker", "rm", "-f", self.container], capture_output=True)


@pytest.fixture
def stand(tmp_path: Path) -> Iterator[tuple[Stand, dict[str, str], str]]:
    here = Stand(tmp_path)
    try:
        mongo_port, app_port = free_port(), free_port()
        (tmp_path / "db").mkdir()
        (tmp_path / "initdb").mkdir()
        here.start(
            [
                here.python,
                str(STANDINS / "mongodb/mongod.py"),
                "--dbpath",
                str(tmp_path / "db"),
                "--port",
                str(mongo_port),
                "--bind_ip",
                "127.0.0.1",
            ],
            {
                "MONGO_INITDB_ROOT_USERNAME": "root",
                "MONGO_INITDB_ROOT_PASSWORD": ROOT_PASSWORD,
                "STANDIN_INITDB_DIR": str(tmp_path / "initdb"),
            },
        )
        app = tmp_path / "app"
        app.mkdir()
        (app / ".env").write_text(
            f"MONGO_URI=mongodb://root:{ROOT_PASSWORD}@127.0.0.1:{mongo_port}/LibreChat"
            "?authSource=admin\n"
            f"HOST=127.0.0.1\nPORT={app_port}\nCREDS_KEY={'a' * 64}\nCREDS_IV={'b' * 32}\n"
            f"JWT_SECRET={'j' * 32}\nJWT_REFRESH_SECRET={'r' * 32}\n"
        )
        (app / "librechat.yaml").write_text(
            "version: 1.2.1\nbalance:\n  enabled: true\n  startBalance: 1000\n"
        )
        env = {"STANDIN_APP_DIR": str(app)}
        here.start([here.python, str(STANDINS / "librechat/server.py")], env)
        url = f"http://127.0.0.1:{app_port}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(url + "/health", timeout=1):
                    break
            except (OSError, urllib.error.HTTPError):
                time.sleep(0.1)
        else:
            pytest.fail("the stand-ins did not become healthy")
        yield here, env, url
    finally:
        here.close()


def npm(
    stand: Stand, env: dict[str, str], args: list[str], answers: list[tuple[str, str]] = ()
) -> tuple[int, str]:
    """`npm run <args>`, writing each answer once its prompt has shown on stdout."""
    proc = stand.spawn([stand.python, str(STANDINS / "librechat/npm"), "run", *args], env)
    assert proc.stdin is not None and proc.stdout is not None
    seen = b""
    for prompt, answer in answers:
        while prompt.encode() not in seen:
            byte = proc.stdout.read(1)
            assert byte, f"no prompt {prompt!r} in {seen.decode()!r}"
            seen += byte
        proc.stdin.write(answer.encode() + b"\n")
        proc.stdin.flush()
        seen = seen.split(prompt.encode(), 1)[1]
    out, errors = proc.communicate(timeout=30)
    return proc.returncode, (seen + out + errors).decode()


def login(url: str, email: str, password: str) -> tuple[int, dict]:
    body = json.dumps({"email": email, "password": password}).encode()
    request = urllib.request.Request(
        url + "/api/auth/login", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_accounts_scripts_and_login(stand: tuple[Stand, dict[str, str], str]) -> None:
    here, env, url = stand
    password = ("Password: (leave blank, to generate one)\n> ", "first-pass-1")
    rc, out = npm(
        here,
        env,
        ["create-user", "--", "Ann@Example.org", "Ann Admin", "ann", "--email-verified=true"],
        [password],
    )
    assert rc == 0, out
    assert "User created successfully!" in out and "Email verified: true" in out
    assert "first-pass-1" not in out
    rc, out = npm(
        here,
        env,
        ["create-user", "--", "bob@example.org", "Bob Student", "bob", "--email-verified=true"],
        [(password[0], "bob-pass-12")],
    )
    assert rc == 0, out
    rc, out = npm(
        here,
        env,
        ["create-user", "--", "bob@example.org", "Bob Again", "bob2", "--email-verified=true"],
        [(password[0], "bob-pass-12")],
    )
    assert rc == 1 and "A user with that email or username already exists!" in out

    rc, out = npm(here, env, ["-s", "list-users"])
    assert rc == 0 and "Email: ann@example.org" in out and "Total Users: 2" in out
    assert "Username: bob" in out and "Provider: local" in out

    status, body = login(url, "ann@example.org", "first-pass-1")
    assert status == 200 and body["token"].count(".") == 2, body
    assert body["user"]["role"] == "ADMIN" and "password" not in body["user"]
    status, body = login(url, "bob@example.org", "bob-pass-12")
    assert status == 200 and body["user"]["role"] == "USER", body
    assert login(url, "bob@example.org", "wrong-pass-1") == (
        404,
        {"message": "Incorrect password."},
    )
    assert login(url, "nobody@example.org", "whatever-1") == (
        404,
        {"message": "Email does not exist."},
    )

    rc, out = npm(here, env, ["list-balances"])
    assert rc == 0 and "User Bob Student (bob@example.org) has a balance of 1000" in out, out
    rc, out = npm(here, env, ["set-balance", "bob@example.org", "5000"])
    assert rc == 0 and "New Balance: 5000" in out, out
    rc, out = npm(here, env, ["add-balance", "bob@example.org", "250"])
    assert rc == 0 and "New Balance: 5250" in out, out

    rc, out = npm(
        here,
        env,
        ["reset-password"],
        [
            ("Enter user email: ", "bob@example.org"),
            ("Enter new password: ", "bob-pass-new"),
            ("Confirm new password: ", "bob-pass-new"),
        ],
    )
    assert rc == 0 and "Password successfully reset!" in out, out
    assert login(url, "bob@example.org", "bob-pass-12")[0] == 404
    assert login(url, "bob@example.org", "bob-pass-new")[0] == 200

    rc, out = npm(
        here,
        env,
        ["delete-user", "bob@example.org"],
        [("(y/N)\n> ", "y"), ("history for this user? (y/N)\n> ", "y")],
    )
    assert rc == 0 and "Successfully deleted user bob@example.org" in out, out
    rc, out = npm(here, env, ["list-balances"])
    assert "bob@example.org" not in out and "Ann Admin (ann@example.org)" in out
    assert login(url, "bob@example.org", "bob-pass-new")[0] == 404

    rc, out = npm(here, env, ["no-such-script"])
    assert rc == 1 and 'npm error Missing script: "no-such-script"' in out
