"""local_llm.stack.compose_project leaves `docker compose up` out only when the project is
as its compose.yml says: asked of a Docker Engine stand-in on a unix socket, in check mode
(nothing is started here)."""

from __future__ import annotations

import hashlib
import json
import os
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.conftest import run_collection_module

COMPOSE = "services:\n  app:\n    image: app:1\n    env_file: [app.env]\n"


def container(service: str, status: str, created: int, state: str = "running") -> dict:
    return {"Id": service + "-id", "Names": [f"/llm-{service}"], "State": state,
            "Status": status, "Created": created,
            "Labels": {"com.docker.compose.service": service}}  # fmt: skip


@contextmanager
def engine(path: Path, containers: list[dict]) -> Iterator[list[str]]:
    """A Docker Engine stand-in answering GET /containers/json; the paths it was asked."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = json.dumps(containers).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

        def address_string(self) -> str:
            return "unix"

    server = socketserver.ThreadingUnixStreamServer(str(path), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield asked
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    directory = tmp_path / "app"
    directory.mkdir()
    (directory / "compose.yml").write_text(COMPOSE)
    (directory / "app.env").write_text("A=1\n")
    old = time.time() - 100
    os.utime(directory / "app.env", (old, old))
    # What the last successful up ran with.
    applied = hashlib.sha256(COMPOSE.encode()).hexdigest() + "\n"
    (directory / ".compose.yml.applied").write_text(applied)
    return directory


def run(collections_dir: Path, project: Path, sock: Path, content: str = COMPOSE) -> dict:
    args = {"project_dir": str(project), "content": content, "services": ["app"],
            "inputs": {"app": ["app.env"]}, "docker_socket": str(sock), "check": True,
            "mode": oct((project / "compose.yml").stat().st_mode & 0o777)[2:].zfill(4)}  # fmt: skip
    rc, result = run_collection_module(collections_dir, "compose_project", **args)
    assert rc == 0, result
    return result


def test_a_healthy_project_as_written_is_left_alone(collections_dir, project, tmp_path):
    now = int(time.time())
    with engine(tmp_path / "docker.sock", [container("app", "Up 2 hours (healthy)", now)]) as asked:
        result = run(collections_dir, project, tmp_path / "docker.sock")
    assert result["up"] is False and result["changed"] is False and result["reasons"] == []
    # Asked by the project's directory, Compose's label, leaving out `compose run` containers.
    assert "com.docker.compose.project.working_dir%3D" in asked[0]
    assert "com.docker.compose.oneoff%3DFalse" in asked[0]


@pytest.mark.parametrize(
    ("containers", "reason"),
    [
        ([], "app has no container"),
        (
            [container("app", "Up 3 seconds (health: starting)", 0)],
            "app is not running and healthy",
        ),
        ([container("app", "Up 1 hour (unhealthy)", 0)], "app is not running and healthy"),
        (
            [container("app", "Exited (0) 1 hour ago", 0, "exited")],
            "app is not running and healthy",
        ),
    ],
)
def test_a_service_not_running_and_healthy_brings_the_project_up(
    collections_dir, project, tmp_path, containers, reason
):
    with engine(tmp_path / "docker.sock", containers):
        result = run(collections_dir, project, tmp_path / "docker.sock")
    assert result["up"] is True and result["changed"] is True
    assert reason in result["reasons"], result["reasons"]


def test_an_env_file_newer_than_its_containers_makes_compose_look(
    collections_dir, project, tmp_path
):
    created = int(time.time()) - 50  # after app.env's time, then app.env changes
    (project / "app.env").write_text("A=2\n")
    with engine(tmp_path / "docker.sock", [container("app", "Up (healthy)", created)]):
        result = run(collections_dir, project, tmp_path / "docker.sock")
    assert result["up"] is True
    assert result["reasons"] == [f"{project / 'app.env'} changed since app was created"]


def test_an_env_file_is_compared_with_its_own_service(collections_dir, project, tmp_path):
    """A key that re-created only one service leaves the others older than the file."""
    now = int(time.time())
    containers = [
        container("app", "Up (healthy)", now),
        container("web", "Up (healthy)", now - 500),
    ]
    with engine(tmp_path / "docker.sock", containers):
        result = run(collections_dir, project, tmp_path / "docker.sock")
    assert result["up"] is False and result["reasons"] == [], result["reasons"]


def test_an_up_that_did_not_finish_is_tried_again(collections_dir, project, tmp_path):
    """compose.yml written, then the up failed (a pull, Ctrl-C): the old containers are
    healthy, the file is as wanted, and still Compose must look."""
    (project / ".compose.yml.applied").write_text("an older content's hash\n")
    with engine(tmp_path / "docker.sock", [container("app", "Up (healthy)", int(time.time()))]):
        result = run(collections_dir, project, tmp_path / "docker.sock")
    assert result["up"] is True
    assert result["reasons"] == [
        "compose.yml was not brought up yet (a first run, or one that failed)"
    ]


def test_a_changed_compose_file_is_reported_and_not_written_in_check_mode(
    collections_dir, project, tmp_path
):
    changed = COMPOSE.replace("app:1", "app:2")
    with engine(tmp_path / "docker.sock", [container("app", "Up (healthy)", int(time.time()))]):
        result = run(collections_dir, project, tmp_path / "docker.sock", changed)
    assert result["up"] is True and result["reasons"] == ["compose.yml changed"]
    assert (project / "compose.yml").read_text() == COMPOSE


def test_no_engine_to_ask_means_compose_looks(collections_dir, project, tmp_path):
    result = run(collections_dir, project, tmp_path / "no.sock")
    assert result["up"] is True and "the Docker Engine could not be asked" in result["reasons"]
