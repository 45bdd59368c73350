"""Model blobs checked against their digests (ollama_blobs_verify), and the small
pieces of a copy between hosts: names on a seed, what is still missing, versions."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.conftest import run_collection_module, serving


@pytest.fixture(scope="module")
def oc(collections_dir):
    return importlib.import_module(
        "ansible_collections.local_llm.stack.plugins.module_utils.ollama_copy"
    )


def blob(models: Path, data: bytes) -> tuple[str, int]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = models / "blobs" / digest.replace(":", "-")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest, len(data)


def model(models: Path, name: str, *datas: bytes) -> list[str]:
    """Write a model (first data is the config) the way Ollama lays it out."""
    config, *layers = [blob(models, d) for d in datas]
    namespace, _, rest = name.rpartition("/")
    base, _, tag = rest.partition(":")
    path = models / "manifests" / "registry.ollama.ai" / (namespace or "library") / base / tag
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest = {
        "schemaVersion": 2,
        "config": {"digest": config[0], "size": config[1]},
        "layers": [{"digest": d, "size": s} for d, s in layers],
    }
    path.write_text(json.dumps(manifest))
    return [config[0]] + [d for d, _ in layers]


def test_good_blobs_are_hashed_once_then_trusted_by_their_stamp(oc, tmp_path):
    model(tmp_path, "m:1", b"{}", b"x" * 5000, b"template")
    first = oc.verify(str(tmp_path), ["m:1"])
    assert first["models"] == {"m:1": {"present": True, "complete": True}}
    assert first["hashed"] == 2 + 5000 + 8 and first["stamps_changed"]
    assert (tmp_path / ".llm-verified.json").is_file()  # beside blobs/, which Ollama prunes
    again = oc.verify(str(tmp_path), ["m:1"])
    assert again["hashed"] == 0 and not again["stamps_changed"] and not again["corrupt"]


def test_a_corrupt_blob_is_found_and_deleted(oc, tmp_path):
    digests = model(tmp_path, "m:1", b"{}", b"x" * 5000)
    oc.verify(str(tmp_path), ["m:1"])  # stamped as good
    path = tmp_path / "blobs" / digests[1].replace(":", "-")
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF  # same size, new mtime: the stamp no longer vouches for it
    path.write_bytes(bytes(data))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1000))
    report = oc.verify(str(tmp_path), ["m:1"])
    assert report["corrupt"] == [{"model": "m:1", "digest": digests[1]}]
    assert report["models"]["m:1"] == {"present": True, "complete": False}
    assert not path.exists()  # the next copy fetches it again
    assert oc.verify(str(tmp_path), ["m:1"])["missing"] == [{"model": "m:1", "digest": digests[1]}]


def test_check_mode_reports_but_deletes_nothing(oc, tmp_path):
    digests = model(tmp_path, "m:1", b"{}", b"abc")
    path = tmp_path / "blobs" / digests[1].replace(":", "-")
    path.write_bytes(b"abd")
    report = oc.verify(str(tmp_path), ["m:1"], delete_corrupt=False)
    assert report["corrupt"] and path.exists()
    assert not (tmp_path / ".llm-verified.json").exists()


def test_a_wrong_size_is_corrupt_without_hashing(oc, tmp_path):
    digests = model(tmp_path, "m:1", b"{}", b"abcdef")
    (tmp_path / "blobs" / digests[1].replace(":", "-")).write_bytes(b"abc")
    report = oc.verify(str(tmp_path), ["m:1"])
    assert report["corrupt"] == [{"model": "m:1", "digest": digests[1]}]
    assert report["hashed"] == 2  # the config only


def test_absent_model_and_shared_blobs(oc, tmp_path):
    model(tmp_path, "a:1", b"{}", b"shared")
    model(tmp_path, "b:1", b"{}", b"shared")
    report = oc.verify(str(tmp_path), ["a:1", "b:1", "c:latest"])
    assert report["models"]["c:latest"] == {"present": False, "complete": False}
    assert report["hashed"] == 2 + 6  # each blob once, though two models name it


def test_missing_bytes_counts_what_a_partial_file_holds(oc, tmp_path):
    digests = model(tmp_path, "m:1", b"{}", b"y" * 1000)
    manifest = oc.read_manifest(str(tmp_path), "m:1")
    assert oc.missing_bytes(str(tmp_path), manifest) == {}
    path = tmp_path / "blobs" / digests[1].replace(":", "-")
    path.rename(str(path) + "-partial")
    (Path(str(path) + "-partial")).write_bytes(b"y" * 400)
    assert oc.missing_bytes(str(tmp_path), manifest) == {digests[1]: 600}


def test_stamp_blobs_records_what_ollama_verified(oc, tmp_path):
    digests = model(tmp_path, "m:1", b"{}", b"z" * 100)
    oc.stamp_blobs(str(tmp_path), digests)
    assert oc.verify(str(tmp_path), ["m:1"])["hashed"] == 0


@pytest.mark.parametrize(
    ("name", "seed"),
    [
        ("qwen2.5:0.5b", "10.0.0.2:11435/library/qwen2.5:0.5b"),
        ("llama3.2", "10.0.0.2:11435/library/llama3.2:latest"),
        ("alice/tiny:q4", "10.0.0.2:11435/alice/tiny:q4"),
    ],
)
def test_the_name_that_pulls_from_a_seed(oc, name, seed):
    assert oc.seed_name("10.0.0.2:11435", name) == seed


def test_a_model_of_another_registry_is_not_copied(oc):
    with pytest.raises(oc.CopyError, match=r"only models from registry\.ollama\.ai"):
        oc.seed_name("10.0.0.2:11435", "hf.co/someone/model:q4")


@pytest.mark.parametrize(
    ("have", "need", "older"),
    [
        ("0.40.2", "0.41.0", True),
        ("0.41.0", "0.41.0", False),
        ("0.41.1", "0.41.0", False),
        ("0.9.0", "0.10.0", True),  # numbers, not strings
        ("0.41.0-rc1", "0.41.0", True),  # a pre-release is older than its release
        ("v0.42", "0.41.9", False),
        ("0.0.0", "0.41.0", False),  # a development build: let Ollama judge
        ("weird", "0.41.0", False),
    ],
)
def test_version_older(oc, have, need, older):
    assert oc.version_older(have, need) is older


class Tags(BaseHTTPRequestHandler):
    """An Ollama that lists one model."""

    def do_GET(self):
        body = json.dumps({"models": [{"name": "llama3.2:latest", "size": 11}]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_ready_is_complete_on_disk_and_listed_by_ollama(collections_dir, tmp_path):
    models = tmp_path / "models"
    model(models, "llama3.2:latest", b"config", b"layer")
    model(models, "qwen2.5:0.5b", b"config2", b"layer2")  # complete, but Ollama does not list it
    args = {"models_dir": str(models), "models": ["llama3.2", "qwen2.5:0.5b", "phi3"]}
    with serving(Tags) as url:
        rc, result = run_collection_module(collections_dir, "ollama_blobs_verify", url=url, **args)
    assert rc == 0, result
    assert sorted(result["complete"]) == ["llama3.2:latest", "qwen2.5:0.5b"]
    assert result["ready"] == [{"model": "llama3.2:latest", "completed": 11, "total": 11,
                                "status": "already present", "done": True}]  # fmt: skip
    # An Ollama that does not answer makes nothing ready, and fails nothing: the pull says why.
    with serving(Tags) as url:
        pass
    rc, result = run_collection_module(collections_dir, "ollama_blobs_verify", url=url, **args)
    assert rc == 0 and result["ready"] == [] and len(result["complete"]) == 2, result
