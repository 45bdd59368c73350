"""The librechat.yaml the role writes passes LibreChat's own published schema.

The schema is the zod `configSchema` of the npm package librechat-data-provider,
pinned in tests/schema/package.json (scripts/test runs `npm ci` there).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO / "tests" / "schema"


@pytest.fixture(scope="module", autouse=True)
def schema_installed():
    if not (SCHEMA_DIR / "node_modules" / "librechat-data-provider").is_dir():
        pytest.fail("run 'npm ci' in tests/schema first (scripts/test does)")
    if not shutil.which("node"):
        pytest.fail("node is needed to run LibreChat's schema (apt-get install nodejs)")


def render(tmp_path: Path, endpoints: list[dict], models: list[str], **settings) -> Path:
    out = tmp_path / "librechat.yaml"
    extra = json.dumps({"out": str(out), "endpoints": endpoints, "models": models, **settings})
    result = subprocess.run(
        [
            Path(sys.executable).parent / "ansible-playbook",
            "-i",
            "localhost,",
            "tests/fixtures/render_librechat_yaml.yml",
            "-e",
            extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def validate(path: Path) -> dict:
    result = subprocess.run(
        ["node", "validate-librechat-yaml.js", str(path)],
        cwd=SCHEMA_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(result.stdout)


def test_single_ollama_endpoint_passes(tmp_path):
    path = render(tmp_path, [{"name": "Ollama", "url": "http://ollama:11434/v1/"}], ["llama3.2"])
    verdict = validate(path)
    assert verdict["ok"], verdict["issues"]
    config = yaml.safe_load(path.read_text())
    assert config["version"] == verdict["configVersion"]  # the role writes the schema's version


def test_one_endpoint_per_ollama_host_passes(tmp_path):
    endpoints = [
        {"name": f"Ollama gpu-0{i}", "url": f"http://10.0.0.{i}:11434/v1/"} for i in (1, 2, 3)
    ]
    path = render(tmp_path, endpoints, [])
    verdict = validate(path)
    assert verdict["ok"], verdict["issues"]
    custom = yaml.safe_load(path.read_text())["endpoints"]["custom"]
    assert [e["models"]["default"] for e in custom] == [["llama3.2"]] * 3  # the fallback list


def test_endpoints_through_the_gateway_pass(tmp_path):
    """Security module: the key from the environment, in apiKey and in the headers
    LibreChat sends when it fetches /api/tags; a header picks the Ollama host."""
    endpoints = [
        {"name": f"Ollama gpu-0{i}", "url": "https://10.0.0.9:443/ollama/v1/", "host": f"gpu-0{i}"}
        for i in (1, 2)
    ]
    path = render(tmp_path, endpoints, ["llama3.2"], librechat_behind_gateway=True)
    verdict = validate(path)
    assert verdict["ok"], verdict["issues"]
    custom = yaml.safe_load(path.read_text())["endpoints"]["custom"]
    assert custom[1]["apiKey"] == "${LLM_GATEWAY_API_KEY}"
    assert custom[1]["headers"] == {
        "Authorization": "Bearer ${LLM_GATEWAY_API_KEY}",
        "X-LLM-Ollama": "gpu-02",
    }
    assert "llmk_" not in path.read_text()  # the key itself is only in .env


def test_balances_with_a_price_for_local_models_pass(tmp_path):
    """Token allowances: LibreChat's balance settings, and each configured model
    priced (by the names Ollama lists) so an allowance is a number of tokens."""
    path = render(
        tmp_path,
        [
            {"name": "Ollama pc-01", "url": "http://ollama:11434/v1/", "models": []},
            {"name": "Ollama gpu-02", "url": "http://10.0.0.2:11434/v1/", "models": ["phi3"]},
        ],
        ["llama3.2", "qwen2.5:3b"],
        librechat_balance_enabled=True,
        librechat_balance_start=40000,
        librechat_balance_refill_amount=10000,
    )
    verdict = validate(path)
    assert verdict["ok"], verdict["issues"]
    config = yaml.safe_load(path.read_text())
    assert config["balance"] == {
        "enabled": True,
        "startBalance": 40000,
        "autoRefillEnabled": True,
        "refillIntervalValue": 7,
        "refillIntervalUnit": "days",
        "refillAmount": 10000,
    }
    prices = config["endpoints"]["custom"][0]["tokenConfig"]
    assert sorted(prices) == ["llama3.2", "llama3.2:latest", "qwen2.5:3b"]
    assert prices["qwen2.5:3b"] == {"prompt": 1.0, "completion": 1.0, "context": 4096}
    # Each endpoint also prices the models its own host is set to serve.
    other = config["endpoints"]["custom"][1]["tokenConfig"]
    assert sorted(other) == ["llama3.2", "llama3.2:latest", "phi3", "phi3:latest", "qwen2.5:3b"]


def test_no_balance_section_unless_enabled(tmp_path):
    path = render(tmp_path, [{"name": "Ollama", "url": "http://ollama:11434/v1/"}], ["llama3.2"])
    config = yaml.safe_load(path.read_text())
    assert "balance" not in config and "tokenConfig" not in config["endpoints"]["custom"][0]


def test_the_schema_rejects_a_malformed_endpoint(tmp_path):
    path = render(tmp_path, [{"name": "Ollama", "url": "http://ollama:11434/v1/"}], ["llama3.2"])
    config = yaml.safe_load(path.read_text())
    config["endpoints"]["custom"][0]["models"] = {"fetch": "yes please"}
    path.write_text(yaml.safe_dump(config))
    verdict = validate(path)
    assert not verdict["ok"]
    assert "endpoints.custom.0.models.fetch: Expected boolean, received string" in verdict["issues"]
    assert "endpoints.custom.0.models.default: Required" in verdict["issues"]


def test_a_setting_the_schema_would_drop_is_caught(tmp_path):
    """zod drops unknown keys below the top level without an error: a price or a
    setting LibreChat never sees would pass a plain safeParse."""
    path = render(tmp_path, [{"name": "Ollama", "url": "http://ollama:11434/v1/"}], ["llama3.2"],
                  librechat_balance_enabled=True)  # fmt: skip
    assert validate(path)["ok"]
    config = yaml.safe_load(path.read_text())
    config["endpoints"]["custom"][0]["tokenPrices"] = {"llama3.2": 1}
    config["surprise"] = True
    path.write_text(yaml.safe_dump(config))
    verdict = validate(path)
    assert not verdict["ok"]
    assert any("surprise" in issue for issue in verdict["issues"]), verdict
    del config["surprise"]
    path.write_text(yaml.safe_dump(config))
    assert validate(path)["dropped"] == ["endpoints.custom.0.tokenPrices"]
