"""The scenarios' tests share molecule/_shared/lab.py (`from lab import llm, sh, ...`)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "_shared"))
