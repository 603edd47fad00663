"""Optional cross-encoder reranking of the fused candidates."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

logger = logging.getLogger(__name__)

# How many fused candidates the cross-encoder re-scores: enough to repair the order of
# the top results, few enough to stay within the query latency budget on CPU.
RERANK_DEPTH = 20


class PairScorer(Protocol):
    """Anything that scores (query, passage) pairs, higher meaning more relevant."""

    def scores(self, query: str, passages: Sequence[str]) -> list[float]: ...


class CrossEncoderReranker:
    """A sentence-transformers cross-encoder loaded from a local folder (never downloaded)."""

    def __init__(self, model: str, *, device: str = "cpu") -> None:
        from sentence_transformers import CrossEncoder

        self._model: Any = CrossEncoder(model, device=device, local_files_only=True)
        self._lock = threading.Lock()
        logger.info("reranker loaded")

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        with self._lock:
            values = self._model.predict(
                [(query, p) for p in passages], show_progress_bar=False, convert_to_numpy=True
            )
        return [float(v) for v in values]
