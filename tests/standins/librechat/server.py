"""A stand-in for the LibreChat server, for tests only.

Honours: HOST/PORT; /app/.env (real environment variables win, as in
LibreChat's dotenv) with CREDS_KEY (64 hex), CREDS_IV (32 hex), JWT_SECRET and
JWT_REFRESH_SECRET required, MONGO_URI with credentials; /app/librechat.yaml
(or CONFIG_PATH, as api/server/services/Config/loadCustomConfig.js reads it)
with endpoints.custom entries (name, apiKey, baseURL, models, headers);
GET /health (200 only when the config is valid and MongoDB accepted the
credentials); ALLOW_REGISTRATION; SEARCH=true with MEILI_HOST and
MEILI_MASTER_KEY (health fails unless Meilisearch answers and accepts the key).
STANDIN_APP_DIR (default /app) moves /app, to run the stand-in outside a
container.

GET /api/models, for the custom endpoints, as LibreChat's loadConfigModels and
fetchModels do it (api/server/services/Config/loadConfigModels.js,
api/server/services/ModelService.js fetchModels, OllamaClient.fetchModels in
api/app/clients/OllamaClient.js; packages/api/src/endpoints/models.ts today):
- only entries with name, apiKey, baseURL and models.fetch or models.default
  count; apiKey and baseURL go through extractEnvVariable; "user_provided"
  fetches nothing;
- a name starting with "ollama" (any case): GET deriveBaseURL(baseURL) +
  "/api/tags" (protocol://host[:port], the path dropped), with the endpoint's
  `headers` only (resolveHeaders: env references resolved), model names from
  models[].name; if that fails, the OpenAI-compatible way below;
- otherwise, or as that fallback: GET baseURL (trailing slashes trimmed) +
  "/models" with the resolved headers plus "Authorization: Bearer <apiKey>"
  unless the headers carry an Authorization already (models.ts; v0.8.0's
  ModelService.js sent the headers unresolved and always set the Bearer key),
  model ids from data[].id;
- an empty or failed fetch gives models.default, else [] (the error is logged,
  as logAxiosError does, and shown by the helper below);
- extractEnvVariable (packages/data-provider/src/utils.ts): the value is
  trimmed; exactly "${VAR}" becomes VAR's value, or stays as written when VAR
  is unset or empty; "${VAR}" inside a longer value is replaced in place the
  same way; JWT_SECRET, JWT_REFRESH_SECRET, CREDS_KEY, CREDS_IV,
  MEILI_MASTER_KEY, MONGO_URI, REDIS_URI, REDIS_PASSWORD are never resolved.
  No "${VAR:-default}" form. Variables come from the environment and /app/.env.
- HTTPS: certificate and host name verified against the system's CAs plus
  NODE_EXTRA_CA_CERTS (a PEM file), read once at start from the real process
  environment as Node does (not from /app/.env); a file that cannot be loaded
  is ignored with a warning, as Node does. Timeout 5 s, as in fetchModels.
It returns only the custom endpoints, keyed by the name as configured (real
LibreChat also lists its built-in endpoints, keys a name that is "ollama" in
any case as "ollama" (normalizeEndpointName), caches the lists, and requires
a logged-in user).

GET /api/config: registrationEnabled, searchEnabled, and as
api/server/routes/config.js: appTitle (APP_TITLE or "LibreChat"), serverDomain
(DOMAIN_SERVER or "http://localhost:3080"), emailLoginEnabled.
GET / and any other path outside /api: a small HTML page (title "LibreChat",
<div id="root"> with a heading), where LibreChat serves its single-page app.
HEAD answers like GET without a body.

Test helpers (stand-in only, not LibreChat's API):
- POST/GET /api/standin/conversations store and list conversations in MongoDB;
- GET /api/standin/model-fetch: what /api/models requested per endpoint (URL,
  header names, error), so a test can see a TLS or authentication failure;
- GET /api/standin/client-ip: the client address as Express computes req.ip
  with app.set('trust proxy', Number(TRUST_PROXY) || 1) (api/server/index.js):
  the socket address, then X-Forwarded-For from the right, trusting that many
  hops (proxy-addr) - the address LibreChat's per-IP limiters key on.

POST /api/auth/register: 403 "Registration is not allowed." unless ALLOW_REGISTRATION is
true (validateRegistration); with it on, 501 (sign-up is not stood in).

POST /api/auth/login ({"email", "password"}), as api/server/routes/auth.js chains it:
loginLimiter (LOGIN_MAX attempts, default 7, per LOGIN_WINDOW minutes, default 5, per
client address as above: 429 {"message": "Too many login attempts, please try again
after N minutes."}), then requireLocalAuth over passport-local and
api/strategies/localStrategy.js: a missing field is 404 {"message": "Missing
credentials"}, loginSchema's failures (email, password 8-128 characters) 404 with
errorsToString's text, an unknown email 404 "Email does not exist.", a wrong password
404 "Incorrect password." (bcrypt against the stored $2a$/$2b$ hash), an unverified
email without ALLOW_UNVERIFIED_EMAIL_LOGIN=true 422 "Email not verified."; then
setBalanceConfig (a user without a balance record gets startBalance when balance is
enabled) and loginController: 200 {"token": HS256 JWT with JWT_SECRET (id, username,
provider, email; SESSION_EXPIRY ms, default 15 min), "user": the user document without
password, totpSecret and __v, plus "id"}, with refreshToken and token_provider cookies.
Not honoured: sessions in MongoDB, 2FA, LDAP, bans (checkBan), ALLOW_EMAIL_LOGIN, and
any other /api/auth route; the token is not checked anywhere in the stand-in.
The account scripts (`npm run create-user` and the rest) are standin_accounts.py.

It does NOT render the real UI, run agents, or call a model.
"""

import base64
import functools
import hashlib
import hmac
import http.client
import json
import math
import os
import re
import secrets
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# The account scripts' module, beside this one in /app: the log-in's checks, and
# /app/.env read as they read it (accounts.read_env). It needs bcrypt only to log in.
import standin_accounts as accounts
import yaml

APP_DIR = Path(os.environ.get("STANDIN_APP_DIR", "/app"))
REQUIRED = {
    "CREDS_KEY": r"[0-9a-f]{64}",
    "CREDS_IV": r"[0-9a-f]{32}",
    "JWT_SECRET": r".{32,}",
    "JWT_REFRESH_SECRET": r".{32,}",
}
# packages/data-provider/src/utils.ts: never resolved by extractEnvVariable.
SENSITIVE_ENV_VARS = {
    "JWT_SECRET",
    "JWT_REFRESH_SECRET",
    "CREDS_KEY",
    "CREDS_IV",
    "MEILI_MASTER_KEY",
    "MONGO_URI",
    "REDIS_URI",
    "REDIS_PASSWORD",
}
FETCH_TIMEOUT = 5  # seconds, fetchModels' axios timeout
INDEX_HTML = """<!DOCTYPE html>
<html lang="en-US">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>LibreChat</title>
  </head>
  <body>
    <div id="root">
      <main>
        <h1>{title}</h1>
        <p>LibreChat test stand-in: this page stands where the chat app would load.</p>
      </main>
    </div>
  </body>
</html>
"""


def log(message):
    sys.stderr.write(f"librechat-standin: {message}\n")


def extract_env_variable(value, env):
    """extractEnvVariable in librechat-data-provider (packages/data-provider/src/utils.ts)."""
    if not isinstance(value, str) or not value:
        return value
    trimmed = value.strip()
    whole = re.fullmatch(r"\$\{(.+)\}", trimmed, re.DOTALL)
    if whole:
        name = whole.group(1)
        if name in SENSITIVE_ENV_VARS:
            return trimmed
        return env.get(name) or trimmed

    def one(match):
        name = match.group(1)
        if name in SENSITIVE_ENV_VARS:
            return match.group(0)
        return env.get(name) or match.group(0)

    return re.sub(r"\$\{([^}]+)\}", one, trimmed)


def resolve_headers(headers, env):
    """resolveHeaders, for what a stand-in without users can resolve: the
    environment references (no {{LIBRECHAT_USER_*}} or body placeholders)."""
    if not isinstance(headers, dict):
        return {}
    return {str(k): extract_env_variable(str(v), env) for k, v in headers.items()}


def derive_base_url(full_url):
    """deriveBaseURL (packages/api/src/utils/url.ts): protocol//hostname[:port],
    the port left out when it is the scheme's default, as WHATWG URL does."""
    try:
        parts = urllib.parse.urlsplit(full_url)
        port = parts.port
    except ValueError:
        return full_url
    if not parts.scheme or not parts.hostname:
        return full_url
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is not None and {"http": 80, "https": 443}.get(parts.scheme) != port:
        host += f":{port}"
    return f"{parts.scheme}://{host}"


@functools.cache
def tls_context():
    """Node's trust: its default CAs plus NODE_EXTRA_CA_CERTS, read once at start
    from the process environment; verification of chain and host name on."""
    context = ssl.create_default_context()
    extra = os.environ.get("NODE_EXTRA_CA_CERTS")
    if extra:
        try:
            context.load_verify_locations(cafile=extra)
        except (OSError, ssl.SSLError) as exc:
            log(f"Warning: Ignoring extra certs from `{extra}`, load failed: {exc}")
    return context


def get_json(url, headers, attempts):
    """GET url as axios would for fetchModels; record the attempt for the helper."""
    attempt = {"url": url, "headers": sorted(headers), "error": None}
    attempts.append(attempt)
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT, context=tls_context()) as r:
            return json.load(r)
    except (OSError, ValueError, http.client.HTTPException) as exc:
        attempt["error"] = str(exc)
        raise


def fetch_models(name, api_key, base_url, headers, env, attempts):
    """fetchModels for one custom endpoint: the list, or [] when it fails."""
    if not base_url or not api_key:
        return []
    if name.lower().startswith("ollama"):
        url = derive_base_url(base_url) + "/api/tags"
        try:
            data = get_json(url, resolve_headers(headers, env), attempts)
            return [tag["name"] for tag in data["models"]]
        except (OSError, ValueError, http.client.HTTPException, KeyError, TypeError) as exc:
            if attempts[-1]["error"] is None:
                attempts[-1]["error"] = f"unexpected answer: {exc!r}"
            log(
                f"Failed to fetch models from Ollama API ({url}: {exc}). "
                "Attempting to fetch via OpenAI-compatible endpoint."
            )
    request_headers = resolve_headers(headers, env)
    if not any(k.lower() == "authorization" for k in request_headers):
        request_headers["Authorization"] = f"Bearer {api_key}"
    url = base_url.rstrip("/") + "/models"
    try:
        data = get_json(url, request_headers, attempts)
        return [item["id"] for item in data["data"]]
    except (OSError, ValueError, http.client.HTTPException, KeyError, TypeError) as exc:
        if attempts[-1]["error"] is None:
            attempts[-1]["error"] = f"unexpected answer: {exc!r}"
        log(f"Failed to fetch models from {name} API ({url}: {exc})")
        return []


def default_model_names(defaults, env):
    """resolveDefaultModelNames: names, env references resolved, a whole-variable
    reference holding a comma list split into several."""
    names = []
    for model in defaults if isinstance(defaults, list) else []:
        raw = model if isinstance(model, str) else (model or {}).get("name", "")
        resolved = extract_env_variable(raw, env)
        if re.fullmatch(r"\$\{(.+)\}", raw.strip()) and "," in resolved:
            names += [n.strip() for n in resolved.split(",") if n.strip()]
        else:
            names.append(resolved)
    return names


def load_config_models(config, env):
    """loadConfigModels for endpoints.custom: {name: [models]} and the attempts."""
    models, report = {}, {}
    for endpoint in (config.get("endpoints") or {}).get("custom") or []:
        if not isinstance(endpoint, dict):
            continue
        spec = endpoint.get("models")
        name = endpoint.get("name")
        if not (
            endpoint.get("baseURL")
            and endpoint.get("apiKey")
            and name
            and isinstance(spec, dict)
            and (spec.get("fetch") or spec.get("default"))
        ):
            continue
        api_key = extract_env_variable(str(endpoint["apiKey"]), env)
        base_url = extract_env_variable(str(endpoint["baseURL"]), env)
        defaults = default_model_names(spec.get("default"), env)
        attempts = []
        fetched = []
        if spec.get("fetch") and "user_provided" not in (api_key, base_url):
            fetched = fetch_models(
                str(name), api_key, base_url, endpoint.get("headers"), env, attempts
            )
        models[name] = fetched or defaults
        report[name] = {"models": models[name], "fetched": bool(fetched), "requests": attempts}
    return models, report


def config_problems(env):
    problems = [
        f"{k} must match {p}" for k, p in REQUIRED.items() if not re.fullmatch(p, env.get(k, ""))
    ]
    path = Path(env.get("CONFIG_PATH") or APP_DIR / "librechat.yaml")
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        return [*problems, f"librechat.yaml: {exc}"], {}
    if not isinstance(config, dict):
        return [*problems, "librechat.yaml: not a mapping"], {}
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
        with urllib.request.urlopen(request, timeout=5, context=tls_context()):
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


def js_number(value):
    """JavaScript's Number(string), enough for TRUST_PROXY."""
    text = (value or "").strip()
    if not text:
        return 0.0
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        return float(text)
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", text):
        return float(int(text, 16))
    if re.fullmatch(r"[+-]?Infinity", text):
        return -math.inf if text.startswith("-") else math.inf
    return math.nan


def json_number(number):
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return int(number) if number.is_integer() else number


def trusted_hops(env):
    """api/server/index.js: const trusted_proxy = Number(TRUST_PROXY) || 1."""
    number = js_number(env.get("TRUST_PROXY"))
    return 1.0 if number == 0 or math.isnan(number) else number


def forwarded_addresses(socket_address, header_values):
    """The npm `forwarded` list: the socket address, then X-Forwarded-For
    entries from the right (Node joins repeated headers with ", ")."""
    joined = ", ".join(header_values)
    entries = [e.strip() for e in joined.split(",") if e.strip()]
    return [socket_address, *reversed(entries)]


def client_ip(socket_address, header_values, hops):
    """proxy-addr alladdrs/proxyaddr with Express's numeric trust (i < hops):
    req.ip, and req.ips (the trusted chain, client first)."""
    addrs = forwarded_addresses(socket_address, header_values)
    for i in range(len(addrs) - 1):
        if not i < hops:
            del addrs[i + 1 :]
            break
    return addrs[-1], list(reversed(addrs[1:]))


class Handler(BaseHTTPRequestHandler):
    # TCP_NODELAY, as Go and Node servers set it: no delayed-ACK stall on kept-alive connections.
    disable_nagle_algorithm = True

    head = False

    def log_message(self, fmt, *args):
        log(fmt % args)

    def _send(self, status, body, kind="application/json; charset=utf-8", cookies=()):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        for cookie in cookies:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not self.head:
            self.wfile.write(data)

    def do_HEAD(self):
        self.head = True
        self.do_GET()

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        env = accounts.read_env()
        if path == "/api/standin/client-ip":
            hops = trusted_hops(env)
            forwarded = self.headers.get_all("X-Forwarded-For") or []
            ip, ips = client_ip(self.client_address[0], forwarded, hops)
            return self._send(
                200,
                {
                    "ip": ip,
                    "ips": ips,
                    "remoteAddress": self.client_address[0],
                    "xForwardedFor": ", ".join(forwarded) or None,
                    "trustProxy": json_number(hops),
                },
            )
        if path != "/health" and not path.startswith("/api/"):
            title = env.get("APP_TITLE") or "LibreChat"
            return self._send(200, INDEX_HTML.format(title=title), "text/html; charset=utf-8")
        problems, config = config_problems(env)
        if path == "/health":
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
        if path == "/api/models":
            return self._send(200, load_config_models(config, env)[0])
        if path == "/api/standin/model-fetch":
            return self._send(200, load_config_models(config, env)[1])
        if path == "/api/config":
            return self._send(
                200,
                {
                    "appTitle": env.get("APP_TITLE") or "LibreChat",
                    "serverDomain": env.get("DOMAIN_SERVER") or "http://localhost:3080",
                    "emailLoginEnabled": "ALLOW_EMAIL_LOGIN" not in env
                    or accounts.is_enabled(env.get("ALLOW_EMAIL_LOGIN")),
                    "registrationEnabled": accounts.is_enabled(env.get("ALLOW_REGISTRATION")),
                    "searchEnabled": env.get("SEARCH") == "true",
                },
            )
        if path == "/api/standin/conversations":
            return self._send(200, mongo(env, {"find": "conversations"})["docs"])
        return self._send(404, {"error": "not found"})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/api/auth/login":
            return self._login()
        if path == "/api/auth/register":
            # validateRegistration (api/server/middleware/validateRegistration.js): 403 and
            # this text unless ALLOW_REGISTRATION is "true". Sign-up itself is not stood in.
            if not accounts.is_enabled(accounts.read_env().get("ALLOW_REGISTRATION")):
                return self._send(403, "Registration is not allowed.", "text/html; charset=utf-8")
            return self._send(501, {"error": "the stand-in does not implement sign-up"})
        if path != "/api/standin/conversations":
            return self._send(404, {"error": "not found"})
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        mongo(accounts.read_env(), {"insert": "conversations", "doc": body})
        return self._send(201, body)

    def _login(self):
        """POST /api/auth/login: loginLimiter, then requireLocalAuth (passport-local with
        api/strategies/localStrategy.js), setBalanceConfig, loginController."""
        env = accounts.read_env()
        ip, _ = client_ip(
            self.client_address[0],
            self.headers.get_all("X-Forwarded-For") or [],
            trusted_hops(env),
        )
        window = js_number(env.get("LOGIN_WINDOW") or "5")
        window = 5.0 if math.isnan(window) else window
        limit = js_number(env.get("LOGIN_MAX") or "7")
        limit = 7.0 if math.isnan(limit) else limit
        now = time.monotonic()
        with LOGIN_LOCK:
            hits = [t for t in LOGIN_HITS.get(ip, []) if now - t < window * 60]
            hits.append(now)
            LOGIN_HITS[ip] = hits
        if len(hits) > limit:
            message = (
                f"Too many login attempts, please try again after {json_number(window)} minutes."
            )
            return self._send(429, {"message": message})
        try:
            body = json.loads(
                self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}"
            )
        except ValueError:
            return self._send(400, {"message": "Invalid JSON"})
        body = body if isinstance(body, dict) else {}
        email, password = body.get("email"), body.get("password")
        if not email or not password:  # passport-local: fail('Missing credentials') -> 404
            return self._send(404, {"message": "Missing credentials"})
        problems = login_problems(email, password)
        if problems:
            return self._send(404, {"message": problems})
        try:
            mongo = accounts.Mongo(env)
            user = mongo.find_one("users", {"email": str(email).strip().lower()})
            if not user:
                return self._send(404, {"message": "Email does not exist."})
            if not accounts.check_password(str(password), user.get("password")):
                return self._send(404, {"message": "Incorrect password."})
            if not user.get("emailVerified") and not accounts.is_enabled(
                env.get("ALLOW_UNVERIFIED_EMAIL_LOGIN")
            ):
                return self._send(422, {"message": "Email not verified."})
            balance = accounts.balance_config(env)
            if (
                balance.get("enabled")
                and balance.get("startBalance") is not None
                and not mongo.find_one("balances", {"user": user["_id"]})
            ):
                accounts.create_balance(mongo, user["_id"], balance)
        except (OSError, accounts.MongoError) as exc:
            log(f"[loginController] {exc}")
            return self._send(500, {"message": "Something went wrong"})
        expiry = session_seconds(env.get("SESSION_EXPIRY"), 15 * 60)
        refresh_expiry = session_seconds(env.get("REFRESH_TOKEN_EXPIRY"), 7 * 24 * 3600)
        issued = int(time.time())
        token = jwt_hs256(
            {
                "id": user["_id"],
                "username": user.get("username"),
                "provider": user.get("provider"),
                "email": user.get("email"),
                "iat": issued,
                "exp": issued + expiry,
            },
            env.get("JWT_SECRET", ""),
        )
        refresh = jwt_hs256(
            {
                "id": user["_id"],
                "sessionId": secrets.token_hex(12),
                "iat": issued,
                "exp": issued + refresh_expiry,
            },
            env.get("JWT_REFRESH_SECRET", ""),
        )
        expires = formatdate(issued + refresh_expiry, usegmt=True)
        shown = {k: v for k, v in user.items() if k not in ("password", "totpSecret", "__v")}
        shown["id"] = user["_id"]
        return self._send(
            200,
            {"token": token, "user": shown},
            cookies=(
                f"refreshToken={refresh}; Path=/; Expires={expires}; HttpOnly; SameSite=Strict",
                f"token_provider=librechat; Path=/; Expires={expires}; HttpOnly; SameSite=Strict",
            ),
        )


LOGIN_HITS: dict = {}
LOGIN_LOCK = threading.Lock()
# zod v3's email check, as loginSchema (api/strategies/validators.js) uses it.
EMAIL_RE = re.compile(
    r"^(?!\.)(?!.*\.\.)([A-Z0-9_'+\-\.]*)[A-Z0-9_+-]@([A-Z0-9][A-Z0-9\-]*\.)+[A-Z]{2,}$",
    re.IGNORECASE,
)


def login_problems(email, password):
    """loginSchema.safeParse + errorsToString: "<field>: <message>" joined by spaces."""
    issues = []
    if not isinstance(email, str):
        issues.append("email: Expected string, received " + type(email).__name__)
    elif not EMAIL_RE.match(email):
        issues.append("email: Invalid email")
    if not isinstance(password, str):
        issues.append("password: Expected string, received " + type(password).__name__)
    elif len(password) < 8:
        issues.append("password: String must contain at least 8 character(s)")
    elif len(password) > 128:
        issues.append("password: String must contain at most 128 character(s)")
    elif not password.strip():
        issues.append("password: Password cannot be only spaces")
    return " ".join(issues)


def session_seconds(value, default):
    """SESSION_EXPIRY / REFRESH_TOKEN_EXPIRY: milliseconds (upstream evals the value;
    plain numbers and products such as 1000 * 60 * 15 are honoured here)."""
    if not value:
        return default
    try:
        product = 1.0
        for factor in value.split("*"):
            product *= float(factor)
    except ValueError:
        return default
    return max(1, int(product // 1000))


def jwt_hs256(payload, secret):
    """jsonwebtoken's sign with HS256, as signPayload uses it."""

    def part(data):
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = part({"alg": "HS256", "typ": "JWT"}) + "." + part(payload)
    signature = hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest()
    return head + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


if __name__ == "__main__":
    env = accounts.read_env()
    tls_context()  # as Node, read NODE_EXTRA_CA_CERTS once, at start
    ThreadingHTTPServer(
        (env.get("HOST", "0.0.0.0"), int(env.get("PORT", "3080"))), Handler
    ).serve_forever()
