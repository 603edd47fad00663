"""Where the retrieval tests find the repository and the shared evaluation sets (the
``embedder`` and ``index`` fixtures are in tests/conftest.py: corpora/ tests use them too)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
EVAL_ROOT = REPO_ROOT.parent / "shared" / "eval"
