"""Pinned signing keys: fingerprints computed without gpg, wrong keys refused."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.conftest import run_collection_module

KEYS = Path(__file__).resolve().parent.parent / "fixtures" / "keys"
# Both computed by `gpg --show-keys --with-colons` when the fixtures were made.
TEST_REPO_FPR = "BF51DAC5AA02B2E6D1D136326C075480D7D0406C"
OTHER_FPR = "38AB388AF7556A641109CE8832966322F131386C"


@pytest.fixture
def openpgp(collections_dir):
    return importlib.import_module(
        "ansible_collections.local_llm.stack.plugins.module_utils.openpgp"
    )


def test_armored_key_fingerprint(openpgp):
    assert openpgp.fingerprints((KEYS / "test-repo.asc").read_bytes()) == [TEST_REPO_FPR]


def test_binary_key_fingerprint(openpgp):
    assert openpgp.fingerprints((KEYS / "other.gpg").read_bytes()) == [OTHER_FPR]


def test_not_a_key(openpgp):
    with pytest.raises(openpgp.KeyFormatError):
        openpgp.fingerprints(b"<html>404 Not Found</html>")
    with pytest.raises(openpgp.KeyFormatError):
        openpgp.fingerprints(b"")


def test_fingerprint_as_printed_by_gpg(openpgp):
    assert openpgp.normalise("bf51 dac5 aa02 b2e6 d1d1  3632 6c07 5480 d7d0 406c") == TEST_REPO_FPR


def run_module(collections_dir: Path, **args: str) -> tuple[int, dict]:
    return run_collection_module(collections_dir, "signing_key", **args)


def test_module_installs_a_matching_key_once(collections_dir, tmp_path):
    dest = tmp_path / "keyrings" / "test.asc"
    args = {"url": (KEYS / "test-repo.asc").as_uri(), "dest": str(dest)}
    rc, result = run_module(collections_dir, check="1", fingerprint=TEST_REPO_FPR, **args)
    assert (rc, result["changed"], dest.exists()) == (0, True, False)  # check mode writes nothing
    rc, result = run_module(collections_dir, fingerprint=TEST_REPO_FPR.lower(), **args)
    assert (rc, result["changed"]) == (0, True)
    assert dest.read_bytes() == (KEYS / "test-repo.asc").read_bytes()
    assert oct(dest.stat().st_mode & 0o777) == "0o644"
    rc, result = run_module(collections_dir, fingerprint=TEST_REPO_FPR, **args)
    assert (rc, result["changed"]) == (0, False)


def test_module_refuses_a_key_that_is_not_the_pinned_one(collections_dir, tmp_path):
    dest = tmp_path / "other.gpg"
    rc, result = run_module(
        collections_dir, src=str(KEYS / "other.gpg"), dest=str(dest), fingerprint=TEST_REPO_FPR
    )
    assert rc != 0 and not dest.exists()
    assert f"has fingerprint {OTHER_FPR}, not the pinned {TEST_REPO_FPR}" in result["msg"]


def test_module_says_which_url_failed(collections_dir, tmp_path):
    url = (tmp_path / "missing.asc").as_uri()
    rc, result = run_module(
        collections_dir, url=url, dest=str(tmp_path / "k.asc"), fingerprint=TEST_REPO_FPR
    )
    assert rc != 0
    assert f"cannot download the signing key from {url}" in result["msg"]
    assert "local mirror" in result["msg"]
