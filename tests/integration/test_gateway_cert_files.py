"""gateway_cert_source: files - the pair a user brings is checked before HAProxy gets it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def pair(directory: Path, name: str, days: int = 30) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}",
         "-days", str(days)],
        capture_output=True, check=True,
    )  # fmt: skip
    return cert, key


def run(cert: Path, key: Path) -> subprocess.CompletedProcess:
    extra = f'{{"gateway_cert_file": "{cert}", "gateway_key_file": "{key}"}}'
    return subprocess.run(
        [Path(sys.executable).parent / "ansible-playbook", "--check", "-i", "localhost,",
         "tests/fixtures/gateway_cert_files.yml", "-e", extra],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_a_matching_pair_passes_and_a_foreign_key_is_refused(tmp_path):
    cert, key = pair(tmp_path, "chat.example.org")
    _, other_key = pair(tmp_path, "other.example.org")
    good = run(cert, key)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Check the key is the certificate's" in good.stdout
    assert "the key is not the one" not in good.stdout, good.stdout
    bad = run(cert, other_key)
    assert bad.returncode != 0
    assert "the key is not the one of the certificate; give a matching, valid pair" in bad.stdout
    assert "PRIVATE KEY" not in bad.stdout + bad.stderr  # the key is never shown
