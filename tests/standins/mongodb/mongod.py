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
  {"insert": coll, "db": db, "doc": {...}}
  {"find": coll, "db": db, "filter": {...}}   {"count": coll, "db": db, "filter": {...}}
  {"update": coll, "db": db, "filter": {...}, "set": {...}, "inc": {...}, "pull": {...},
   "upsert": bool, "multi": bool}   -> {"n": matched, "docs": [documents after the update]}
  {"delete": coll, "db": db, "filter": {...}, "multi": bool}   -> {"n": deleted}
  A filter matches a document when every field equals the given value (a list field
  matches when it holds the value), {"$in": [values]} matches any of them, and
  {"$or": [filters]} any of the filters; no filter matches every document. An upsert
  that matches nothing inserts the filter's plain fields plus "set" and "inc".
  The LibreChat stand-in's account scripts and log-in use these (find, count, update,
  delete: with the MONGO_URI user's rights, as mongoose would).
  {"dump": 1}   {"restore": {db: {coll: [docs]}}, "drop": bool}   (root users only;
  the stand-in mongodump and mongorestore use them)
  {"changePassword": {"db", "user", "password"}}   (root only; the stand-in mongosh)
Outside a container: `--dbpath DIR` and `--port N` (as mongod takes them) move
/data/db and 27017; STANDIN_INITDB_DIR moves /docker-entrypoint-initdb.d.
"""

import argparse
import json
import os
import socketserver
import threading
from pathlib import Path

STATE = Path("/data/db/standin-state.json")
INIT_DIR = Path(os.environ.get("STANDIN_INITDB_DIR", "/docker-entrypoint-initdb.d"))
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


def matches(doc, query):
    """The filter subset the module docstring names."""
    for key, want in (query or {}).items():
        if key == "$or":
            if not any(matches(doc, sub) for sub in want):
                return False
            continue
        have = doc.get(key)
        options = want["$in"] if isinstance(want, dict) and "$in" in want else [want]
        if not any(have == o or (isinstance(have, list) and o in have) for o in options):
            return False
    return True


def update(coll, request):
    """update: $set, $inc and $pull on the matching documents (the first one
    unless multi), or an upsert; returns (matched, documents after)."""
    query = request.get("filter") or {}
    hits = [d for d in coll if matches(d, query)]
    if not request.get("multi"):
        hits = hits[:1]
    if not hits and request.get("upsert"):
        doc = {k: v for k, v in query.items() if not k.startswith("$") and not isinstance(v, dict)}
        coll.append(doc)
        hits = [doc]
        matched = 0
    else:
        matched = len(hits)
    for doc in hits:
        doc.update(request.get("set") or {})
        for key, amount in (request.get("inc") or {}).items():
            doc[key] = doc.get(key, 0) + amount
        for key, value in (request.get("pull") or {}).items():
            if isinstance(doc.get(key), list):
                doc[key] = [v for v in doc[key] if v != value]
    return matched, hits


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
                elif "find" in request or "count" in request:
                    name = request.get("find") or request.get("count")
                    docs = state["data"].get(request["db"], {}).get(name, [])
                    docs = [d for d in docs if matches(d, request.get("filter"))]
                    if "find" in request:
                        reply = {"ok": 1, "docs": docs}
                    else:
                        reply = {"ok": 1, "n": len(docs)}
                elif "update" in request:
                    coll = (
                        state["data"]
                        .setdefault(request["db"], {})
                        .setdefault(request["update"], [])
                    )
                    matched, docs = update(coll, request)
                    save(state)
                    reply = {"ok": 1, "n": matched, "docs": docs}
                elif "delete" in request:
                    coll = state["data"].get(request["db"], {}).get(request["delete"], [])
                    hits = [d for d in coll if matches(d, request.get("filter"))]
                    if not request.get("multi"):
                        hits = hits[:1]
                    coll[:] = [d for d in coll if not any(d is h for h in hits)]
                    save(state)
                    reply = {"ok": 1, "n": len(hits)}
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
    parser = argparse.ArgumentParser()
    parser.add_argument("--dbpath", default="/data/db")
    parser.add_argument("--port", type=int, default=27017)
    parser.add_argument("--bind_ip", default="0.0.0.0")
    options, _ = parser.parse_known_args()
    STATE = Path(options.dbpath) / "standin-state.json"
    initialise()
    Server((options.bind_ip, options.port), Handler).serve_forever()
