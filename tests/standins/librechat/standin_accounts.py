"""LibreChat's account scripts (`npm run <script>` in /app), for the test stand-in only.

Followed: danny-avila/LibreChat config/create-user.js, delete-user.js, list-users.js,
reset-password.js, set-balance.js, add-balance.js, list-balances.js and config/helpers.js
(the newest stored versions, the v0.8.x line; the stored index has no tag, so v0.8.8
itself is not pinned), with registerUser (api/server/services/AuthService.js), createUser
and updateUser (@librechat/data-schemas), createTransaction (api/models/Transaction.js)
and getBalanceConfig (@librechat/api).

Honoured, per script:
- the arguments, the prompts (askQuestion's "\\x1b[36m<query>\\n> \\x1b[0m" on stdout,
  reset-password's plain "Enter user email: " and so on), the messages with
  console.<colour>'s ANSI codes (always written, as Node writes them to a pipe too), the
  exit codes, and the MongoDB writes (users, balances, transactions; delete-user's
  cascade over the user's collections);
- stdin as Node's readline reads a pipe: askQuestion takes the first line of what it
  reads and the rest of that chunk is lost (a fresh readline per question);
  reset-password's one readline, made before connect(), loses what arrives before its
  first question and the lines after an answer in the same chunk. So answers must be
  written one at a time, after their prompt shows, as with the real image. A question
  left pending when stdin ends waits for ever, as upstream does (the MongoDB connection
  keeps Node alive); the stand-in says so on stderr first. reset-password asking after
  stdin ended fails as Node's ERR_USE_AFTER_CLOSE does (exit 1);
- passwords hashed with bcrypt, 10 rounds (bcryptjs genSaltSync(10)); Python's bcrypt
  writes "$2b$10$...", bcryptjs writes "$2a$10$..." for new hashes and checks both;
- registerUser: registerSchema's checks (name 3-80 characters, username "" or 2-80 of the
  allowed characters, email, password 8-128 and not only spaces) with zod's messages,
  the first user ADMIN and every later one USER, provider "local" (or --provider=),
  emailVerified true unless e-mail is configured (EMAIL_SERVICE or EMAIL_HOST, with
  EMAIL_USERNAME, EMAIL_PASSWORD, EMAIL_FROM) and the user is unverified; the start
  balance when balance is enabled (librechat.yaml `balance`, over CHECK_BALANCE and
  START_BALANCE from the environment / .env, as getBalanceConfig merges them), with the
  auto-refill fields when autoRefillEnabled;
- email and username stored lower-case and looked up lower-case (the user schema's
  `lowercase: true`, which mongoose applies to queries too).

Not honoured: sending verification e-mail, the unverified user's TTL (expiresAt),
registration.allowedDomains, the scripts not listed above (ban-user, invite-user,
user-stats, ...), mongoose's connection errors and timeouts (a refused MongoDB is a plain
error, exit 1). ObjectIds are 24-hex strings, dates ISO strings.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import secrets
import select
import signal
import socket
import string
import sys
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

APP_DIR = Path(os.environ.get("STANDIN_APP_DIR", "/app"))
COLOURS = {
    "orange": 33,
    "green": 32,
    "red": 31,
    "blue": 34,
    "purple": 35,
    "cyan": 36,
    "yellow": 33,
    "white": 37,
    "gray": 90,
}
SALT_ROUNDS = 10
# zod v3's email pattern, as registerSchema and loginSchema use it.
EMAIL_RE = re.compile(
    r"^(?!\.)(?!.*\.\.)([A-Z0-9_'+\-\.]*)[A-Z0-9_+-]@([A-Z0-9][A-Z0-9\-]*\.)+[A-Z]{2,}$",
    re.IGNORECASE,
)
# api/strategies/validators.js usernameSchema (the scripts' Unicode classes narrowed to
# what Python's re has: letters, digits, marks, punctuation and symbols).
USERNAME_BAD = re.compile(r"('|--|\$ne|\$gt|\$lt|\$or|\{|\}|\*|;|<|>|/|=)", re.IGNORECASE)
BALANCE_DEFAULTS = {
    "enabled": False,
    "startBalance": 20000,
    "autoRefillEnabled": False,
    "refillIntervalValue": 30,
    "refillIntervalUnit": "days",
    "refillAmount": 10000,
}


class Exit(Exception):
    """process.exit(code)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def say(colour: str | None, message: str) -> None:
    """console.log, or console.<colour> from config/helpers.js."""
    if colour:
        message = f"\x1b[{COLOURS[colour]}m{message}\x1b[0m"
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def err(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def wait_for_ever(why: str) -> None:
    err(
        f"librechat-standin: {why}; LibreChat's script waits here for ever "
        "(its MongoDB connection keeps Node alive). Write each answer after its prompt."
    )
    while True:
        signal.pause()


# --- stdin as Node's readline reads a pipe ---------------------------------


class Stdin:
    """What readline sees of stdin: whole chunks as os.read returns them."""

    def __init__(self) -> None:
        self.ended = False
        self.pending = b""  # a partial line, kept across chunks as readline keeps it

    def available(self) -> bool:
        if self.ended:
            return False
        ready, _, _ = select.select([0], [], [], 0)
        return bool(ready)

    def read_chunk(self) -> bytes:
        chunk = os.read(0, 65536)
        if not chunk:
            self.ended = True
        return chunk

    def first_line(self) -> str | None:
        """Block until a line is complete; return it, dropping the rest of that chunk
        (the lines readline emits with nobody asking). None at the end of input."""
        while not self.ended:
            chunk = self.read_chunk()
            if not chunk:
                break
            self.pending += chunk
            if b"\n" in self.pending or b"\r" in self.pending:
                line = re.split(rb"\r\n|\n|\r", self.pending, maxsplit=1)[0]
                self.pending = b""
                return line.decode()
        if self.pending:  # readline emits a last line without its newline at the end
            line, self.pending = self.pending.decode(), b""
            return line
        return None

    def drop_available(self) -> None:
        """Lines readline emitted before anyone asked: gone."""
        while self.available():
            chunk = self.read_chunk()
            if not chunk:
                return
            self.pending += chunk
            if b"\n" in self.pending or b"\r" in self.pending:
                self.pending = re.split(rb"\r\n|\n|\r", self.pending)[-1]


STDIN = Stdin()


def ask_question(query: str) -> str:
    """helpers.js askQuestion: a fresh readline, the prompt in cyan, one line."""
    sys.stdout.write("\x1b[36m" + query + "\n> " + "\x1b[0m")
    sys.stdout.flush()
    answer = STDIN.first_line()
    if answer is None:
        wait_for_ever("stdin ended with a question pending")
    return answer or ""


class PlainReadline:
    """reset-password.js: one readline for the whole run, made before connect()."""

    def question(self, query: str) -> str:
        if STDIN.ended:
            err("Error resetting password: Error [ERR_USE_AFTER_CLOSE]: readline was closed")
            raise Exit(1)
        sys.stdout.write(query)
        sys.stdout.flush()
        answer = STDIN.first_line()
        if answer is None:
            wait_for_ever("stdin ended with a question pending")
        return answer or ""


# --- environment, configuration, MongoDB ------------------------------------


def read_env() -> dict[str, str]:
    """/app/.env under the real environment (dotenv does not override); server.py's too."""
    env: dict[str, str] = {}
    dotenv = APP_DIR / ".env"
    if dotenv.exists():
        for raw in dotenv.read_text().splitlines():
            line = raw.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
                    value = value[1:-1]
                env[key.strip()] = value
    env.update(os.environ)
    return env


def is_enabled(value: object) -> bool:
    """isEnabled in @librechat/api: the string "true", any case, trimmed."""
    return isinstance(value, str) and value.strip().lower() == "true"


def balance_config(env: dict[str, str]) -> dict[str, Any]:
    """getBalanceConfig(appConfig): CHECK_BALANCE/START_BALANCE, then librechat.yaml's
    `balance` with the schema's defaults (balanceSchema) over them."""
    config: dict[str, Any] = {"enabled": is_enabled(env.get("CHECK_BALANCE"))}
    start = env.get("START_BALANCE")
    if start:
        match = re.match(r"\s*[+-]?\d+", start)
        if match:
            config["startBalance"] = int(match.group())
    path = Path(env.get("CONFIG_PATH") or APP_DIR / "librechat.yaml")
    try:
        custom = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        custom = {}
    balance = custom.get("balance") if isinstance(custom, dict) else None
    if isinstance(balance, dict):
        config.update({**BALANCE_DEFAULTS, **balance})
    return config


def email_enabled(env: dict[str, str]) -> bool:
    """checkEmailConfig."""
    smtp = (
        bool(env.get("EMAIL_SERVICE") or env.get("EMAIL_HOST"))
        and bool(env.get("EMAIL_USERNAME"))
        and bool(env.get("EMAIL_PASSWORD"))
        and bool(env.get("EMAIL_FROM"))
    )
    mailgun = bool(
        env.get("MAILGUN_API_KEY") and env.get("MAILGUN_DOMAIN") and env.get("EMAIL_FROM")
    )
    return smtp or mailgun


class MongoError(Exception):
    pass


class Mongo:
    """A connection to the mongod stand-in as MONGO_URI names it (config/connect.js)."""

    def __init__(self, env: dict[str, str]) -> None:
        uri = urllib.parse.urlsplit(env.get("MONGO_URI", ""))
        if not uri.hostname:
            raise MongoError("MONGO_URI is not set or has no host")
        self.db = uri.path.lstrip("/") or "test"
        auth_db = dict(urllib.parse.parse_qsl(uri.query)).get("authSource", self.db)
        conn = socket.create_connection((uri.hostname, uri.port or 27017), timeout=10)
        self.stream = conn.makefile("rw")
        if uri.username:
            self.call(
                {
                    "auth": {
                        "user": urllib.parse.unquote(uri.username),
                        "password": urllib.parse.unquote(uri.password or ""),
                        "db": auth_db,
                    }
                }
            )

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        if "auth" not in request:
            request = dict(request, db=self.db)
        self.stream.write(json.dumps(request) + "\n")
        self.stream.flush()
        line = self.stream.readline()
        if not line:
            raise MongoError("the MongoDB connection closed")
        reply = json.loads(line)
        if reply.get("ok") != 1:
            raise MongoError(reply.get("errmsg", "MongoDB error"))
        return reply

    def find(self, coll: str, query: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.call({"find": coll, "filter": query or {}})["docs"]

    def find_one(self, coll: str, query: dict[str, Any]) -> dict[str, Any] | None:
        docs = self.find(coll, query)
        return docs[0] if docs else None

    def count(self, coll: str, query: dict[str, Any] | None = None) -> int:
        return self.call({"count": coll, "filter": query or {}})["n"]

    def insert(self, coll: str, doc: dict[str, Any]) -> None:
        self.call({"insert": coll, "doc": doc})

    def update(self, coll: str, query: dict[str, Any], **change: Any) -> dict[str, Any]:
        return self.call({"update": coll, "filter": query, **change})

    def delete(self, coll: str, query: dict[str, Any], multi: bool = True) -> int:
        return self.call({"delete": coll, "filter": query, "multi": multi})["n"]


def object_id() -> str:
    return secrets.token_hex(12)


def now_iso() -> str:
    return (
        datetime.datetime.now(datetime.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def js_date_string(iso: str | None) -> str:
    """`${date}` in Node with TZ unset (UTC): Date.prototype.toString."""
    if not iso:
        return "undefined"
    moment = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return moment.strftime("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)")


def hash_password(password: str) -> str:
    import bcrypt  # here, not at the top: server.py shares this module and runs without it

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(SALT_ROUNDS)).decode()


def check_password(password: str, hashed: str | None) -> bool:
    """bcryptjs compare: $2a$, $2b$ and $2y$ hashes alike."""
    if not hashed or not isinstance(hashed, str):
        return False
    import bcrypt  # here, not at the top: server.py shares this module and runs without it

    normalised = "$2b$" + hashed[4:] if hashed[:4] in ("$2a$", "$2y$") else hashed
    try:
        return bcrypt.checkpw(password.encode(), normalised.encode())
    except ValueError:
        return False


def js_number(text: object) -> float | None:
    """mongoose's Number cast of a string: Number(text), NaN refused."""
    if isinstance(text, int | float):
        return float(text)
    value = str(text).strip()
    if value == "":
        return 0.0
    try:
        if re.fullmatch(r"0[xX][0-9a-fA-F]+", value):
            return float(int(value, 16))
        if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?Infinity", value):
            return float(value.replace("Infinity", "inf"))
    except ValueError:
        return None
    return None


def js_number_text(number: float) -> str:
    if number != number:  # NaN
        return "NaN"
    if number in (float("inf"), float("-inf")):
        return "Infinity" if number > 0 else "-Infinity"
    return str(int(number)) if number.is_integer() else repr(number)


# --- registerUser / createUser -----------------------------------------------


def register_problems(user: dict[str, Any]) -> str:
    """registerSchema.safeParse + errorsToString ("<path>: <message>" joined by spaces)."""
    issues: list[str] = []

    def length(field: str, value: object, low: int, high: int) -> bool:
        if not isinstance(value, str):
            issues.append(f"{field}: Required" if value is None else f"{field}: Expected string")
            return False
        if len(value) < low:
            issues.append(f"{field}: String must contain at least {low} character(s)")
            return False
        if len(value) > high:
            issues.append(f"{field}: String must contain at most {high} character(s)")
            return False
        return True

    length("name", user.get("name"), 3, 80)
    username = user.get("username")
    if username != "" and length("username", username, 2, 80):
        allowed = all(
            c in string.ascii_letters + string.digits + "_.@#$%&*()" or c.isprintable()
            for c in username
        ) and not any(c.isspace() and c != " " for c in username)
        if not allowed:
            issues.append("username: Invalid characters in username")
        if USERNAME_BAD.search(username):
            issues.append("username: Potential injection attack detected")
    email = user.get("email")
    if isinstance(email, str) and not EMAIL_RE.match(email):
        issues.append("email: Invalid email")
    for field in ("password", "confirm_password"):
        value = user.get(field)
        if length(field, value, 8, 128) and not str(value).strip():
            issues.append(f"{field}: Password cannot be only spaces")
    if user.get("confirm_password") != user.get("password"):
        issues.append(": The passwords did not match")
    return " ".join(issues)


def create_balance(mongo: Mongo, user_id: str, config: dict[str, Any]) -> None:
    """createUser's start balance: $inc tokenCredits by startBalance, upserted, with the
    auto-refill fields set when autoRefillEnabled."""
    if not (config.get("enabled") and config.get("startBalance")):
        return
    change: dict[str, Any] = {"inc": {"tokenCredits": config["startBalance"]}}
    refill = ("refillIntervalValue", "refillIntervalUnit", "refillAmount")
    if config.get("autoRefillEnabled") and all(config.get(k) is not None for k in refill):
        change["set"] = {"autoRefillEnabled": True, **{k: config[k] for k in refill}}
    mongo.update("balances", {"user": user_id}, upsert=True, **change)


def register_user(
    mongo: Mongo, env: dict[str, str], user: dict[str, Any], extra: dict[str, Any]
) -> tuple[int, str]:
    problems = register_problems(user)
    if problems:
        return 404, problems
    email = user["email"].lower()
    if mongo.find_one("users", {"email": email}):
        return 200, "ok"  # registerUser answers the same either way
    first = mongo.count("users") == 0
    stamp = now_iso()
    doc: dict[str, Any] = {
        "_id": object_id(),
        "name": user["name"],
        "username": (user.get("username") or "").lower(),
        "email": email,
        "emailVerified": False,
        "password": hash_password(user["password"]),
        "avatar": None,
        "provider": user.get("provider") or "local",
        "role": "ADMIN" if first else "USER",
        "plugins": [],
        "twoFactorEnabled": False,
        "termsAccepted": False,
        "createdAt": stamp,
        "updatedAt": stamp,
        "__v": 0,
    }
    doc.update({k: v for k, v in extra.items() if v is not None})
    mongo.insert("users", doc)
    create_balance(mongo, doc["_id"], balance_config(env))
    if not (email_enabled(env) and not doc["emailVerified"]):
        mongo.update(
            "users", {"_id": doc["_id"]}, set={"emailVerified": True, "updatedAt": now_iso()}
        )
    return 200, "ok"


# --- the scripts --------------------------------------------------------------


def create_user(argv: list[str], mongo: Mongo, env: dict[str, str]) -> int:
    """config/create-user.js: npm run create-user <email> <name> <username> [password]
    [--email-verified=false] [--provider=NAME]; what is missing is asked for on stdin."""
    say("purple", "--------------------------")
    say("purple", "Create a new user account!")
    say("purple", "--------------------------")
    if len(argv) + 2 < 5:
        say(
            "orange",
            "Usage: npm run create-user <email> <name> <username> [--email-verified=false]",
        )
        say("orange", "Note: if you do not pass in the arguments, you will be prompted for them.")
        say(
            "orange",
            "If you really need to pass in the password, you can do so as the 4th argument "
            "(not recommended for security).",
        )
        say("orange", "Use --email-verified=false to set emailVerified to false. Default is true.")
        say("purple", "--------------------------")
    email = name = username = password = provider = None
    email_verified: bool | None = None
    for arg in argv:
        if arg.startswith("--email-verified="):
            email_verified = arg.split("=")[1].lower() != "false"
            continue
        if arg.startswith("--provider="):
            provider = arg.split("=")[1]
            continue
        if email is None:
            email = arg
        elif name is None:
            name = arg
        elif username is None:
            username = arg
        elif password is None:
            say("red", "Warning: password passed in as argument, this is not secure!")
            password = arg
    if email is None:
        email = ask_question("Email:")
    if "@" not in email:
        say("red", "Error: Invalid email address!")
        return 1
    default_name = email.split("@")[0]
    if name is None:
        name = ask_question("Name: (default is: " + default_name + ")") or default_name
    if username is None:
        username = ask_question("Username: (default is: " + default_name + ")") or default_name
    if password is None:
        password = ask_question("Password: (leave blank, to generate one)")
        if not password:
            alphabet = string.digits + string.ascii_lowercase
            password = "".join(secrets.choice(alphabet) for _ in range(11))
            say("orange", "Your password is: " + password)
    if email_verified is None:
        answer = ask_question(
            "Email verified? (Y/n, default is Y):\n\n"
            "If `y`, the user's email will be considered verified.\n      \n"
            "If `n`, and email service is configured, the user will be sent a verification "
            "email.\n\n"
            "If `n`, and email service is not configured, you must have the "
            "`ALLOW_UNVERIFIED_EMAIL_LOGIN` .env variable set to true,\n"
            "or the user will need to attempt logging in to have a verification link sent "
            "to them."
        )
        if answer.lower() == "n":
            email_verified = False
    if mongo.find_one("users", {"$or": [{"email": email.lower()}, {"username": username.lower()}]}):
        say("red", "Error: A user with that email or username already exists!")
        return 1
    user = {
        "email": email,
        "password": password,
        "name": name,
        "username": username,
        "confirm_password": password,
        "provider": provider,
    }
    status, message = register_user(mongo, env, user, {"emailVerified": email_verified})
    if status != 200:
        say("red", "Error: " + message)
        return 1
    created = mongo.find_one(
        "users", {"$or": [{"email": email.lower()}, {"username": username.lower()}]}
    )
    if created:
        say("green", "User created successfully!")
        say("green", f"Email verified: {'true' if created.get('emailVerified') else 'false'}")
        return 0
    return 1


# delete-user.js's cascade: collection and the field holding the user's id.
CASCADE = [
    ("actions", "user"),
    ("agents", "author"),
    ("agentapikeys", "user"),
    ("assistants", "user"),
    ("balances", "user"),
    ("conversationtags", "user"),
    ("conversations", "user"),
    ("messages", "user"),
    ("files", "user"),
    ("keys", "userId"),
    ("memoryentries", "userId"),
    ("pluginauths", "userId"),
    ("prompts", "author"),
    ("promptgroups", "author"),
    ("presets", "user"),
    ("sessions", "user"),
    ("sharedlinks", "user"),
    ("toolcalls", "user"),
    ("tokens", "userId"),
    ("aclentries", "principalId"),
]


def delete_user(argv: list[str], mongo: Mongo, env: dict[str, str]) -> int:
    """config/delete-user.js: npm run delete-user <email>; asks to confirm (y/N) and
    whether to delete the transaction history too (y/N)."""
    say("purple", "---------------")
    say("purple", "Deleting a user and all related data")
    say("purple", "---------------")
    email = argv[0].strip() if argv and argv[0].strip() else ask_question("Email:").strip()
    user = mongo.find_one("users", {"email": email.lower()})
    if not user:
        say("yellow", f'No user found with email "{email}"')
        return 0
    confirm = ask_question(
        f"Really delete user {user['email']} ({user['_id']}) and ALL their data? (y/N)"
    )
    if confirm.lower() != "y":
        say("yellow", "Aborted.")
        return 0
    delete_tx = (
        ask_question("Also delete all transaction history for this user? (y/N)").lower() == "y"
    )
    uid = user["_id"]
    for coll, field in CASCADE:
        mongo.delete(coll, {field: uid})
    if delete_tx:
        mongo.delete("transactions", {"user": uid})
    mongo.update("groups", {"memberIds": uid}, pull={"memberIds": uid}, multi=True)
    mongo.delete("users", {"_id": uid}, multi=False)
    say("green", f"✔ Successfully deleted user {email} and all associated data.")
    if not delete_tx:
        say("yellow", "⚠️ Transaction history was retained.")
    return 0


def list_users(argv: list[str], mongo: Mongo, env: dict[str, str]) -> int:
    """config/list-users.js: every user, in insertion order."""
    users = mongo.find("users")
    say(None, "\nUser List:")
    say(None, "----------------------------------------")
    for user in users:
        say(None, f"ID: {user['_id']}")
        say(None, f"Email: {user.get('email')}")
        say(None, f"Username: {user.get('username') or 'N/A'}")
        say(None, f"Name: {user.get('name') or 'N/A'}")
        say(None, f"Provider: {user.get('provider') or 'email'}")
        say(None, f"Created: {js_date_string(user.get('createdAt'))}")
        say(None, "----------------------------------------")
    say(None, f"\nTotal Users: {len(users)}")
    return 0


def reset_password(argv: list[str], mongo: Mongo, env: dict[str, str], rl: PlainReadline) -> int:
    """config/reset-password.js: no arguments; asks for the email, the new password (8
    characters at least, asked again until it is) and its confirmation."""
    email = rl.question("Enter user email: ")
    user = mongo.find_one("users", {"email": email.lower()})
    if not user:
        err("User not found!")
        return 1
    while True:
        password = rl.question("Enter new password: ")
        if len(password) < 8:
            say(None, "Password must be at least 8 characters! Please try again.")
            continue
        if rl.question("Confirm new password: ") != password:
            say(None, "Passwords do not match! Please try again.")
            continue
        break
    stamp = int(datetime.datetime.now(datetime.UTC).timestamp() * 1000)
    mongo.update(
        "users",
        {"email": email.lower()},
        set={"password": hash_password(password), "passwordVersion": stamp, "updatedAt": now_iso()},
    )
    say(None, "Password successfully reset!")
    return 0


def balance_start(
    argv: list[str], env: dict[str, str], script: str, title: str
) -> tuple[str, str] | None:
    """set-balance.js's and add-balance.js's common start: the banner, the arguments (the
    usage when there are none), the balance check, the email asked for when not given.
    (email, amount as given or ""), or None when the script stops there (exit 1)."""
    say("purple", "--------------------------")
    say("purple", title)
    say("purple", "--------------------------")
    if argv:
        email, amount = argv[0], argv[1] if len(argv) > 1 else ""
    else:
        say("orange", f"Usage: npm run {script} <email> <amount>")
        say("orange", "Note: if you do not pass in the arguments, you will be prompted for them.")
        say("purple", "--------------------------")
        email, amount = "", ""
    if not balance_config(env).get("enabled"):
        say("red", "Error: Balance is not enabled. Use librechat.yaml to enable it")
        return None
    if not email:
        email = ask_question("Email:")
    if "@" not in email:
        say("red", "Error: Invalid email address!")
        return None
    return email, amount


def set_balance(argv: list[str], mongo: Mongo, env: dict[str, str]) -> int:
    """config/set-balance.js: npm run set-balance <email> <amount>: tokenCredits := amount."""
    started = balance_start(argv, env, "set-balance", "Set balance to a user account!")
    if started is None:
        return 1
    email, amount = started
    user = mongo.find_one("users", {"email": email.lower()})
    if not user:
        say("red", "Error: No user with that email was found!")
        return 1
    say("purple", f"Found user: {user['email']}")
    balance = mongo.find_one("balances", {"user": user["_id"]})
    if not balance:
        say("purple", "User has no balance!")
    else:
        say("purple", f"Current Balance: {js_number_text(balance['tokenCredits'])}")
    if not amount:
        amount = ask_question("amount:")
    if not amount:
        say("red", "Error: Please specify an amount!")
        return 1
    credits = js_number(amount)
    if credits is None:
        say(
            "red",
            f'Error: Cast to Number failed for value "{amount}" (type string) at path '
            '"tokenCredits"',
        )
        return 1
    doc = mongo.update(
        "balances",
        {"user": user["_id"]},
        set={"tokenCredits": int(credits) if credits.is_integer() else credits},
        upsert=True,
    )["docs"][0]
    say("green", "Balance set successfully!")
    say("purple", f"New Balance: {js_number_text(doc['tokenCredits'])}")
    return 0


def add_balance(argv: list[str], mongo: Mongo, env: dict[str, str]) -> int:
    """config/add-balance.js: npm run add-balance <email> [amount]: a 'credits'
    transaction (context 'admin', rate 1) and tokenCredits += amount (1000 when empty)."""
    started = balance_start(argv, env, "add-balance", "Add balance to a user account!")
    if started is None:
        return 1
    email, amount = started
    if not amount:
        amount = ask_question("amount: (default is 1000 tokens if empty or 0)")
    if not amount:
        amount = "1000"
    user = mongo.find_one("users", {"email": email.lower()})
    if not user:
        say("red", "Error: No user with that email was found!")
        return 1
    say("purple", f"Found user: {user['email']}")
    raw = js_number(amount)
    if raw is None:
        raw = float("nan")
    value = int(raw) if raw == raw and raw.is_integer() else raw
    stamp = now_iso()
    mongo.insert(
        "transactions",
        {
            "_id": object_id(),
            "user": user["_id"],
            "tokenType": "credits",
            "context": "admin",
            "rate": 1,
            "rawAmount": value,
            "tokenValue": value,
            "createdAt": stamp,
            "updatedAt": stamp,
            "__v": 0,
        },
    )
    if raw != raw:
        say("red", "Error: Something went wrong while updating the balance!")
        return 1
    doc = mongo.update("balances", {"user": user["_id"]}, inc={"tokenCredits": value}, upsert=True)
    credits = doc["docs"][0]["tokenCredits"]
    if not credits:
        say("red", "Error: Something went wrong while updating the balance!")
        return 1
    say("green", "Transaction created successfully!")
    say("purple", f"Amount: {amount}\nNew Balance: {js_number_text(float(credits))}")
    return 0


def list_balances(argv: list[str], mongo: Mongo, env: dict[str, str]) -> int:
    """config/list-balances.js: one line per user, in insertion order."""
    say("purple", "-----------------------------")
    say("purple", "Show the balance of all users")
    say("purple", "-----------------------------")
    for user in mongo.find("users"):
        balance = mongo.find_one("balances", {"user": user["_id"]})
        if balance is not None:
            credits = js_number_text(float(balance.get("tokenCredits", 0)))
            say(
                "green", f"User {user.get('name')} ({user.get('email')}) has a balance of {credits}"
            )
        else:
            say("yellow", f"User {user.get('name')} ({user.get('email')}) has no balance")
    return 0


SCRIPTS: dict[str, Callable[[list[str], Mongo, dict[str, str]], int]] = {
    "create-user": create_user,
    "delete-user": delete_user,
    "list-users": list_users,
    "set-balance": set_balance,
    "add-balance": add_balance,
    "list-balances": list_balances,
}


def run(script: str, argv: list[str]) -> int:
    """Run one script as `node config/<script>.js argv...` would; its exit code."""
    env = read_env()
    rl = PlainReadline() if script == "reset-password" else None
    try:
        try:
            mongo = Mongo(env)
        except (OSError, MongoError) as exc:
            err(f"There was an uncaught error:\n{exc}")
            return 1
        if rl is not None:
            STDIN.drop_available()  # what came before the first question
            return reset_password(argv, mongo, env, rl)
        return SCRIPTS[script](argv, mongo, env)
    except Exit as done:
        return done.code
    except (OSError, MongoError) as exc:
        err(f"There was an uncaught error:\n{exc}")
        return 1


SCRIPT_NAMES = [*SCRIPTS, "reset-password"]

if __name__ == "__main__":
    sys.exit(run(sys.argv[1], sys.argv[2:]))
