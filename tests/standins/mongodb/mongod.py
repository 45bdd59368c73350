"""A stand-in for mongod, for tests only.

Honours: port 27017; /data/db as the only state (so data survives container
re-creation exactly when the data directory is kept); MONGO_INITDB_ROOT_USERNAME
and MONGO_INITDB_ROOT_PASSWORD on first start only (an initialised data
directory ignores them, as mongod does); authentication for every command but
ping; per-database users. It does NOT run the JavaScript in
/docker-entrypoint-initdb.d: when that directory holds a script that calls
createUser, it creates the user the stack's script creates, from the same
MONGO_APP_* variables the script reads.

Protocol: one JSON object per line, one reply per line.
  {"auth": {"user", "password", "db"}}   {"ping": 1}
  {"insert": coll, "db": db, "doc": {...}}   {"find": coll, "db": db}
  {"dump": 1}   {"restore": {db: {coll: [docs]}}, "drop": bool}   (root users only;
  the stand-in mongodump and mongorestore use them)
  {"changePassword": {"db", "user", "password"}}   (root only; the stand-in mongosh)
"""

import json
import os
import socketserver
import threading
from pathlib import Path

STATE = Path("/data/db/standin-state.json")
INIT_DIR = Path("/docker-entrypoint-initdb.d")
LOCK = threading.Lock()


def load():
    return json.loads(STATE.read_text())


def save(state):
    tmp = STATE.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace(STATE)


def initialise():
    if STATE.exists():
        return
    user = os.environ.get("MONGO_INITDB_ROOT_USERNAME")
    password = os.environ.get("MONGO_INITDB_ROOT_PASSWORD")
    users = {}
    if user and password:
        users["admin"] = {user: {"password": password, "root": True}}
    scripts = sorted(INIT_DIR.glob("*.js")) if INIT_DIR.is_dir() else []
    if any("createUser" in s.read_text() for s in scripts):
        db = os.environ["MONGO_APP_DATABASE"]
        users.setdefault(db, {})[os.environ["MONGO_APP_USERNAME"]] = {
            "password": os.environ["MONGO_APP_PASSWORD"],
            "root": False,
        }
    save({"users": users, "data": {}})


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        session = None
        for raw in self.rfile:
            try:
                request = json.loads(raw)
            except ValueError:
                self._reply({"ok": 0, "errmsg": "bad request"})
                continue
            with LOCK:
                state = load()
                if "ping" in request:
                    reply = {"ok": 1}
                elif "auth" in request:
                    auth = request["auth"]
                    known = state["users"].get(auth.get("db", "admin"), {}).get(auth.get("user"))
                    if known and known["password"] == auth.get("password"):
                        session = (auth["db"], auth["user"], known["root"])
                        reply = {"ok": 1}
                    else:
                        reply = {"ok": 0, "code": 18, "errmsg": "Authentication failed."}
                elif session is None:
                    reply = {"ok": 0, "code": 13, "errmsg": "command requires authentication"}
                elif not session[2] and request.get("db") != session[0]:
                    reply = {
                        "ok": 0,
                        "code": 13,
                        "errmsg": f"not authorized on {request.get('db')}",
                    }
                elif ("dump" in request or "restore" in request) and not session[2]:
                    reply = {
                        "ok": 0,
                        "code": 13,
                        "errmsg": "not authorized: dump/restore need root",
                    }
                elif "changePassword" in request and not session[2]:
                    reply = {"ok": 0, "code": 13, "errmsg": "not authorized to change passwords"}
                elif "changePassword" in request:
                    change = request["changePassword"]
                    user = state["users"].get(change["db"], {}).get(change["user"])
                    if user is None:
                        reply = {"ok": 0, "code": 11, "errmsg": f"User {change['user']} not found"}
                    else:
                        user["password"] = change["password"]
                        save(state)
                        reply = {"ok": 1}
                elif "dump" in request:
                    reply = {"ok": 1, "data": state["data"]}
                elif "restore" in request:
                    for db, collections in request["restore"].items():
                        target = state["data"].setdefault(db, {})
                        for coll, docs in collections.items():
                            if request.get("drop") or coll not in target:
                                target[coll] = []
                            target[coll].extend(docs)
                    save(state)
                    reply = {"ok": 1}
                elif "insert" in request:
                    coll = (
                        state["data"]
                        .setdefault(request["db"], {})
                        .setdefault(request["insert"], [])
                    )
                    coll.append(request["doc"])
                    save(state)
                    reply = {"ok": 1, "n": 1}
                elif "find" in request:
                    docs = state["data"].get(request["db"], {}).get(request["find"], [])
                    reply = {"ok": 1, "docs": docs}
                else:
                    reply = {"ok": 0, "errmsg": "unsupported command"}
            self._reply(reply)

    def _reply(self, body):
        self.wfile.write((json.dumps(body) + "\n").encode())
        self.wfile.flush()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    initialise()
    Server(("0.0.0.0", 27017), Handler).serve_forever()
