# -*- coding: utf-8 -*-
# Copyright: local-llm-stack developers
# Apache License 2.0 (see LICENSE)
"""Copying a model between Ollama hosts inside the lab, and checking its blobs.

A host's models directory is Ollama's registry layout: manifests/<registry>/
<namespace>/<model>/<tag> (JSON: config and layers, each with a sha256 digest
and a size) and blobs/sha256-<hex>. The seed server (nginx, roles/ollama)
serves it at the registry paths, so another Ollama pulls from it with its own
client: POST /api/pull {"model": "<seed>/<namespace>/<model>:<tag>",
"insecure": true} (plain HTTP), which verifies every blob's sha256, resumes
its -partial files and writes the manifest last. /api/copy then gives the
model its canonical name.

Pure functions and a few HTTP calls (standard library only), for the modules
ollama_model and ollama_blobs_verify and for their unit tests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import hashlib
import json
import os
import re
import tempfile

try:
    from urllib.request import Request, urlopen
except ImportError:  # pragma: no cover - Python 2 is not a target
    Request = urlopen = None

DEFAULT_REGISTRY = "registry.ollama.ai"
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
STAMP_NAME = ".llm-verified.json"
_HEX = re.compile(r"^sha256:([0-9a-f]{64})$")


class CopyError(RuntimeError):
    """A copy that cannot go on, in words a person can act on."""


def parts(name):
    """'qwen2.5:0.5b' -> ('registry.ollama.ai', 'library', 'qwen2.5', '0.5b'), as Ollama
    normalises a name ([registry/][namespace/]model[:tag])."""
    base, tag = name, "latest"
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        base, tag = name.rsplit(":", 1)
    pieces = base.split("/")
    registry = pieces[0] if len(pieces) == 3 else DEFAULT_REGISTRY
    namespace = pieces[-2] if len(pieces) >= 2 else "library"
    return registry, namespace, pieces[-1], tag


def seed_name(source, name):
    """The name that makes Ollama pull `name` from the seed at `source` (host:port)."""
    registry, namespace, model, tag = parts(name)
    if registry != DEFAULT_REGISTRY:
        raise CopyError(
            "%s comes from the registry %s: only models from %s are copied between hosts"
            " (set ollama_model_distribution: direct, or pull it on each host)"
            % (name, registry, DEFAULT_REGISTRY)
        )
    return "%s/%s/%s:%s" % (source, namespace, model, tag)


def manifest_path(models_dir, name):
    registry, namespace, model, tag = parts(name)
    return os.path.join(models_dir, "manifests", registry, namespace, model, tag)


def blob_path(models_dir, digest):
    return os.path.join(models_dir, "blobs", digest.replace(":", "-"))


def manifest_blobs(manifest):
    """[(digest, size)] of a manifest's layers and config, each once."""
    out = []
    for layer in [*(manifest.get("layers") or []), manifest.get("config") or {}]:
        digest = layer.get("digest")
        if digest and _HEX.match(digest) and digest not in [d for d, _ in out]:
            out.append((digest, int(layer.get("size") or 0)))
    return out


def read_manifest(models_dir, name):
    """The local manifest of `name`, or None."""
    try:
        with open(manifest_path(models_dir, name)) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def missing_bytes(models_dir, manifest):
    """{digest: bytes still to receive} for the blobs of `manifest` not complete here
    (a -partial file counts for what it holds: Ollama resumes it)."""
    out = {}
    for digest, size in manifest_blobs(manifest):
        path = blob_path(models_dir, digest)
        try:
            if os.path.getsize(path) == size:
                continue
        except OSError:
            pass
        try:
            have = min(os.path.getsize(path + "-partial"), size)
        except OSError:
            have = 0
        out[digest] = size - have
    return out


# Version numbers: "0.40.2", "v0.6.5", "0.6.5-rc1" (a pre-release is older than its release).
_VERSION = re.compile(r"^v?(\d+(?:\.\d+)*)(?:[-+~]?(.*))?$")


def version_key(version):
    match = _VERSION.match((version or "").strip())
    if not match:
        raise ValueError("%r is not a version number" % version)
    numbers = [int(n) for n in match.group(1).split(".")]
    numbers += [0] * (3 - len(numbers))
    pre = match.group(2) or ""
    return tuple(numbers), (0, pre) if pre else (1, "")


def version_older(have, need):
    """Whether version `have` is older than `need` (unparsable `have`: not older, as
    Ollama's development builds report 0.0.0 and would refuse every model)."""
    try:
        have_key = version_key(have)
    except ValueError:
        return False
    if have_key[0] == (0, 0, 0):
        return False
    return have_key < version_key(need)


def _open(url, method="GET", body=None, timeout=30, accept=None, extra=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if accept:
        headers["Accept"] = accept
    headers.update(extra or {})
    return urlopen(Request(url, data=data, method=method, headers=headers), timeout=timeout)


def seed_manifest(source, name, timeout=30):
    """The manifest the seed at `source` serves for `name` (HTTPError 404 when it lacks it)."""
    _, namespace, model, tag = parts(name)
    url = "http://%s/v2/%s/%s/manifests/%s" % (source, namespace, model, tag)
    with _open(url, timeout=timeout, accept=MANIFEST_TYPE) as response:
        return json.load(response)


def seed_config(source, name, manifest, timeout=30):
    """The model's config blob (Ollama's ConfigV2) from the seed, {} when it has none."""
    digest = (manifest.get("config") or {}).get("digest")
    if not digest:
        return {}
    _, namespace, model, _ = parts(name)
    url = "http://%s/v2/%s/%s/blobs/%s" % (source, namespace, model, digest)
    # With Range: the seed answers a GET without one with headers alone (Ollama's probe).
    with _open(url, timeout=timeout, extra={"Range": "bytes=0-"}) as response:
        data = response.read()
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise CopyError("the config blob of %s from %s does not match its digest" % (name, source))
    config = json.loads(data.decode("utf-8"))
    return config if isinstance(config, dict) else {}


def server_version(base_url, timeout=30):
    with _open(base_url.rstrip("/") + "/api/version", timeout=timeout) as response:
        return str(json.load(response).get("version") or "")


def copy(base_url, source, destination, timeout=60):
    with _open(
        base_url.rstrip("/") + "/api/copy",
        "POST",
        {"source": source, "destination": destination},
        timeout=timeout,
    ):
        return True


def delete(base_url, name, timeout=60):
    with _open(base_url.rstrip("/") + "/api/delete", "DELETE", {"model": name}, timeout=timeout):
        return True


# Blob verification, with a stamp file so that a run that changes nothing hashes nothing.


def sha256_file(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while True:
            data = handle.read(chunk)
            if not data:
                break
            digest.update(data)
    return "sha256:" + digest.hexdigest()


def stamp_path(models_dir):
    """Beside blobs/, not in it: Ollama deletes any file in blobs/ that is not named like
    a digest when it starts (server.PruneLayers), which would make every restart rehash."""
    return os.path.join(models_dir, STAMP_NAME)


def read_stamps(path):
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (IOError, OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_stamps(path, stamps):
    directory = os.path.dirname(path)
    handle, tmp = tempfile.mkstemp(prefix=".llm-verified.", dir=directory)
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(stamps, out, sort_keys=True)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _identity(stat):
    return [stat.st_size, stat.st_mtime_ns]


def stamp_blobs(models_dir, digests, path=None):
    """Record blobs as verified as they are now (Ollama checked them as it received them)."""
    path = path or stamp_path(models_dir)
    stamps = read_stamps(path)
    for digest in digests:
        try:
            stamps[digest] = _identity(os.stat(blob_path(models_dir, digest)))
        except OSError:
            stamps.pop(digest, None)
    write_stamps(path, stamps)


def verify(models_dir, names, delete_corrupt=True, path=None):
    """Check the blobs of the models `names` that have a manifest here.

    A blob whose (size, mtime) is in the stamp file is taken as good; any other is
    hashed. A blob whose hash or size is wrong is deleted (delete_corrupt) so the
    next copy fetches it again. Returns a dict: models {name: {"present": manifest
    here, "complete": every blob here and good}}, corrupt [{model, digest}],
    missing [{model, digest}], hashed (bytes read), stamps_changed (bool).
    """
    path = path or stamp_path(models_dir)
    stamps = read_stamps(path)
    before = dict(stamps)
    report = {"models": {}, "corrupt": [], "missing": [], "hashed": 0}
    checked = {}
    for name in names:
        manifest = read_manifest(models_dir, name)
        if manifest is None:
            report["models"][name] = {"present": False, "complete": False}
            continue
        complete = True
        for digest, size in manifest_blobs(manifest):
            if digest not in checked:
                checked[digest] = _check_blob(models_dir, digest, size, stamps, report)
            state = checked[digest]
            if state != "good":
                complete = False
                entry = {"model": name, "digest": digest}
                report["corrupt" if state == "corrupt" else "missing"].append(entry)
        report["models"][name] = {"present": True, "complete": complete}
    if delete_corrupt:
        for digest in sorted(set(c["digest"] for c in report["corrupt"])):
            with contextlib.suppress(OSError):
                os.unlink(blob_path(models_dir, digest))
    report["stamps_changed"] = stamps != before
    if report["stamps_changed"] and delete_corrupt:
        write_stamps(path, stamps)
    return report


def _check_blob(models_dir, digest, size, stamps, report):
    blob = blob_path(models_dir, digest)
    try:
        stat = os.stat(blob)
    except OSError:
        stamps.pop(digest, None)
        return "missing"
    if stat.st_size != size:
        stamps.pop(digest, None)
        return "corrupt"
    if stamps.get(digest) == _identity(stat):
        return "good"
    report["hashed"] += stat.st_size
    if sha256_file(blob) != digest:
        stamps.pop(digest, None)
        return "corrupt"
    stamps[digest] = _identity(stat)
    return "good"
