"""The dense side of the index: one Chroma collection per corpus.

Chroma runs either embedded (``PersistentClient`` on disk) or as a server (``HttpClient``).
Embedded Chroma keeps each collection's HNSW graph in memory and does not notice vectors
written by another process, and two processes writing the same files would lose each
other's work. So, in embedded mode, writes are serialised across processes by a file lock
and every write bumps a *vector epoch* in the catalog; a process that sees an epoch it did
not produce reopens its client (which reloads the graph from disk) before reading or
writing. A Chroma server needs none of this and is the right choice for many workers.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from retrieval.catalog import Catalog
from retrieval.errors import RetrievalError

logger = logging.getLogger(__name__)

_INVALID = re.compile(r"[^a-zA-Z0-9._-]+")


def collection_name(corpus: str) -> str:
    """Chroma collection of a corpus: 3-512 chars of [a-zA-Z0-9._-], alphanumeric at both ends.

    The readable part is the sanitised corpus name; a hash of the exact name keeps two
    corpora apart even when they sanitise to the same text.
    """
    readable = _INVALID.sub("-", corpus).strip("-._")[:200] or "corpus"
    digest = hashlib.sha256(corpus.encode("utf-8")).hexdigest()[:10]
    return f"guichet-{readable}-{digest}"


@dataclass(frozen=True)
class DenseHit:
    """One Chroma result: chunk id, cosine similarity and the version metadata."""

    chunk_id: str
    similarity: float
    document_id: str
    version: int


class VectorStore:
    """Chroma collections of all corpora, with cross-process safety in embedded mode."""

    def __init__(self, *, root: Path, catalog: Catalog, chroma_url: str | None, embedder: str,
                 dimension: int) -> None:
        self._root = root
        self._catalog = catalog
        self._url = chroma_url
        self._embedder = embedder
        self._dimension = dimension
        self._lock = threading.RLock()
        self._client: Any = None
        self._collections: dict[str, Any] = {}
        self._epoch = -1
        self._lock_path = root / "retrieval-write.lock"

    # -- client lifecycle ---------------------------------------------------------------

    def _open(self) -> Any:
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        if self._url:
            parsed = urlparse(self._url)
            return chromadb.HttpClient(
                host=parsed.hostname or "localhost",
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                settings=settings,
            )
        return chromadb.PersistentClient(path=str(self._root / "chroma"), settings=settings)

    def _close(self) -> None:
        if self._client is None:
            return
        if not self._url:
            # Drop Chroma's per-path system cache so the next client reloads from disk.
            from chromadb.api.shared_system_client import SharedSystemClient

            identifier = getattr(self._client, "_identifier", None)
            system = SharedSystemClient._identifier_to_system.pop(identifier, None)
            if system is not None:
                system.stop()
        self._client = None
        self._collections.clear()

    def _fresh_client(self) -> Any:
        """The client, reopened when another process changed the embedded store."""
        if not self._url:
            epoch = self._catalog.vector_epoch()
            if epoch != self._epoch:
                self._close()
                self._epoch = epoch
        if self._client is None:
            try:
                self._client = self._open()
            except Exception as exc:
                raise RetrievalError("vector_store_unavailable", type(exc).__name__) from exc
        return self._client

    def close(self) -> None:
        with self._lock:
            self._close()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Serialise writers across processes (embedded mode) and publish the new epoch."""
        with self._lock:
            if self._url:
                yield
                return
            self._lock_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self._lock_path, "a+b") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    self._fresh_client()
                    # Bumped before writing too: if this process dies mid-write, the
                    # others still know the files changed under their in-memory graph.
                    self._epoch = self._catalog.bump_vector_epoch()
                    try:
                        yield
                    finally:
                        self._epoch = self._catalog.bump_vector_epoch()
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def _collection(self, corpus: str, *, create: bool) -> Any | None:
        client = self._fresh_client()
        name = collection_name(corpus)
        collection = self._collections.get(name)
        if collection is not None:
            return collection
        try:
            if create:
                collection = client.get_or_create_collection(
                    name,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={"corpus": corpus, "embedder": self._embedder,
                              "dimension": self._dimension},
                    embedding_function=None,
                )
            else:
                collection = client.get_collection(name, embedding_function=None)
        except Exception as exc:
            if not create and _is_not_found(exc):
                return None
            raise RetrievalError("vector_store_unavailable", type(exc).__name__) from exc
        metadata = collection.metadata or {}
        if metadata.get("embedder") not in (None, self._embedder):
            raise RetrievalError(
                "embedding_model_mismatch",
                f"corpus indexed with {metadata.get('embedder')}, not {self._embedder}",
            )
        self._collections[name] = collection
        return collection

    # -- operations -----------------------------------------------------------------------

    def upsert(self, corpus: str, ids: Sequence[str], vectors: np.ndarray,
               metadatas: Sequence[dict[str, str | int]]) -> None:
        """Write vectors in batches no larger than Chroma accepts (call inside ``writing``)."""
        with self._lock:
            collection = self._collection(corpus, create=True)
            assert collection is not None
            batch = max(1, int(self._fresh_client().get_max_batch_size()))
            for start in range(0, len(ids), batch):
                end = start + batch
                collection.upsert(
                    ids=list(ids[start:end]),
                    embeddings=vectors[start:end],
                    metadatas=list(metadatas[start:end]),
                )

    def delete(self, corpus: str, ids: Sequence[str]) -> None:
        """Delete vectors by id; unknown ids are ignored (call inside ``writing``)."""
        if not ids:
            return
        with self._lock:
            collection = self._collection(corpus, create=False)
            if collection is None:
                return
            batch = max(1, int(self._fresh_client().get_max_batch_size()))
            for start in range(0, len(ids), batch):
                collection.delete(ids=list(ids[start:start + batch]))

    def drop(self, corpus: str) -> None:
        """Delete the corpus's collection (call inside ``writing``)."""
        with self._lock:
            client = self._fresh_client()
            name = collection_name(corpus)
            self._collections.pop(name, None)
            try:
                client.delete_collection(name)
            except Exception as exc:
                if not _is_not_found(exc):
                    raise RetrievalError("vector_store_unavailable", type(exc).__name__) from exc

    def query(self, corpus: str, vector: np.ndarray, n: int) -> list[DenseHit]:
        """The ``n`` nearest chunks by cosine similarity, best first."""
        with self._lock:
            collection = self._collection(corpus, create=False)
            if collection is None:
                return []
            try:
                result = collection.query(
                    query_embeddings=vector.reshape(1, -1),
                    n_results=n,
                    include=["distances", "metadatas"],
                )
            except Exception as exc:
                raise RetrievalError("vector_store_unavailable", type(exc).__name__) from exc
        ids = result["ids"][0]
        distances = (result.get("distances") or [[]])[0]
        metadatas = (result.get("metadatas") or [[]])[0]
        return [
            DenseHit(
                chunk_id=chunk_id,
                similarity=1.0 - float(distance),
                document_id=str((meta or {}).get("document_id", "")),
                version=int(str((meta or {}).get("version", -1))),
            )
            for chunk_id, distance, meta in zip(ids, distances, metadatas, strict=False)
        ]

    def existing_ids(self, corpus: str, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` have a vector (for checks and diagnostics)."""
        with self._lock:
            collection = self._collection(corpus, create=False)
            if collection is None or not ids:
                return set()
            return set(collection.get(ids=list(ids), include=[])["ids"])

    def ping(self) -> bool:
        """True when Chroma answers a heartbeat."""
        try:
            with self._lock:
                self._fresh_client().heartbeat()
            return True
        except Exception:
            logger.warning("vector store did not answer a heartbeat")
            return False


def _is_not_found(exc: Exception) -> bool:
    name = type(exc).__name__
    return name in {"NotFoundError", "InvalidCollectionException"} or (
        "does not exist" in str(exc) or "not found" in str(exc).lower()
    )
