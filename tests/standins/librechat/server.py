"""A stand-in for the LibreChat server, for tests only.

Honours: HOST/PORT; /app/.env (real environment variables win, as in
LibreChat) with CREDS_KEY (64 hex), CREDS_IV (32 hex), JWT_SECRET and
JWT_REFRESH_SECRET required, MONGO_URI with credentials; /app/librechat.yaml
with endpoints.custom entries (name, apiKey, baseURL, models); GET /health
(200 only when the config is valid and MongoDB accepted the credentials);
GET /api/models (for each custom endpoint with models.fetch, the models its
baseURL + "models" lists, as LibreChat fetches them); ALLOW_REGISTRATION;
SEARCH=true with MEILI_HOST and MEILI_MASTER_KEY (health fails unless
Meilisearch answers and accepts the key).
Test helpers: POST/GET /api/standin/conversations store conversations in MongoDB.
It does NOT render a UI, run agents, or call a model.
"""

import json
import os
import re
import socket
import sys
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

REQUIRED = {
    "CREDS_KEY": r"[0-9a-f]{64}",
    "CREDS_IV": r"[0-9a-f]{32}",
    "JWT_SECRET": r".{32,}",
    "JWT_REFRESH_SECRET": r".{32,}",
}


def read_env():
    env = {}
    dotenv = Path("/app/.env")
    if dotenv.exists():
        for raw in dotenv.read_text().splitlines():
            line = raw.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                env[key] = value.strip().strip('"')
    env.update({k: v for k, v in os.environ.items()})
    return env


def config_problems(env):
    problems = [
        f"{k} must match {p}" for k, p in REQUIRED.items() if not re.fullmatch(p, env.get(k, ""))
    ]
    try:
        config = yaml.safe_load(Path("/app/librechat.yaml").read_text())
    except (OSError, yaml.YAMLError) as exc:
        return [*problems, f"librechat.yaml: {exc}"], {}
    for endpoint in (config.get("endpoints") or {}).get("custom") or []:
        for key in ("name", "apiKey", "baseURL", "models"):
            if key not in endpoint:
                problems.append(f"custom endpoint {endpoint.get('name')!r} lacks {key}")
    return problems, config


def meilisearch_problem(env):
    """None when search is off, or Meilisearch answers and accepts the master key."""
    if env.get("SEARCH") != "true":
        return None
    request = urllib.request.Request(
        env.get("MEILI_HOST", "").rstrip("/") + "/indexes",
        headers={"Authorization": f"Bearer {env.get('MEILI_MASTER_KEY', '')}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5):
            return None
    except (OSError, ValueError) as exc:
        return f"Meilisearch: {exc}"


def mongo(env, request):
    uri = urllib.parse.urlsplit(env["MONGO_URI"])
    db = uri.path.lstrip("/") or "test"
    auth_db = dict(urllib.parse.parse_qsl(uri.query)).get("authSource", db)
    with socket.create_connection((uri.hostname, uri.port or 27017), timeout=5) as conn:
        stream = conn.makefile("rw")
        for message in (
            {
                "auth": {
                    "user": urllib.parse.unquote(uri.username or ""),
                    "password": urllib.parse.unquote(uri.password or ""),
                    "db": auth_db,
                }
            },
            dict(request, db=db),
        ):
            stream.write(json.dumps(message) + "\n")
            stream.flush()
            reply = json.loads(stream.readline())
            if reply.get("ok") != 1:
                raise RuntimeError(reply.get("errmsg", "mongo error"))
        return reply


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("librechat-standin: " + fmt % args + "\n")

    def _send(self, status, body, kind="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        env = read_env()
        problems, config = config_problems(env)
        if self.path == "/health":
            if problems:
                return self._send(503, {"problems": problems})
            try:
                mongo(env, {"ping": 1})
            except (OSError, RuntimeError) as exc:
                return self._send(503, {"problems": [f"MongoDB: {exc}"]})
            search = meilisearch_problem(env)
            if search:
                return self._send(503, {"problems": [search]})
            return self._send(200, "OK", "text/plain")
        if self.path == "/api/models":
            models = {}
            for endpoint in (config.get("endpoints") or {}).get("custom") or []:
                if not endpoint.get("models", {}).get("fetch"):
                    models[endpoint["name"]] = endpoint["models"].get("default", [])
                    continue
                url = endpoint["baseURL"].rstrip("/") + "/models"
                try:
                    with urllib.request.urlopen(url, timeout=5) as response:
                        models[endpoint["name"]] = [m["id"] for m in json.load(response)["data"]]
                except OSError as exc:
                    models[endpoint["name"]] = {"error": str(exc)}
            return self._send(200, models)
        if self.path == "/api/config":
            return self._send(
                200,
                {
                    "registrationEnabled": env.get("ALLOW_REGISTRATION") == "true",
                    "searchEnabled": env.get("SEARCH") == "true",
                },
            )
        if self.path == "/api/standin/conversations":
            return self._send(200, mongo(env, {"find": "conversations"})["docs"])
        return self._send(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/api/standin/conversations":
            return self._send(404, {"error": "not found"})
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        mongo(read_env(), {"insert": "conversations", "doc": body})
        return self._send(201, body)


if __name__ == "__main__":
    env = read_env()
    ThreadingHTTPServer(
        (env.get("HOST", "0.0.0.0"), int(env.get("PORT", "3080"))), Handler
    ).serve_forever()
