"""The dense side of the index: one Chroma collection per corpus.

Chroma runs either embedded (``PersistentClient`` on disk) or as a server (``HttpClient``).
Embedded Chroma keeps each collection's HNSW graph in memory and does not notice vectors
written by another process, and two processes writing the same files would lose each
other's work. So, in embedded mode, writes are serialised across processes by a file lock
and every write bumps the store's *vector epoch* in the catalog; a process that sees an
epoch it did not produce reopens its client (which reloads the graph from disk) before
reading or writing. A Chroma server needs none of this and is the right choice for many workers.

Several Guichet instances can share one Chroma server: each names its own Chroma
*database* (created on first use), so equal corpus names never meet.
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
    """One Chroma result: chunk id and cosine similarity."""

    chunk_id: str
    similarity: float


class _SharedClient:
    """The Chroma client of one store location, shared by all VectorStores of a process.

    Two clients on one embedded path in one process would share Chroma's internal system
    anyway, and reopening it for one would break the other; so there is one per location.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.client: Any = None
        self.collections: dict[str, Any] = {}
        self.epoch = -1
        self.users = 0


_SHARED: dict[str, _SharedClient] = {}
_SHARED_LOCK = threading.Lock()


class VectorStore:
    """Chroma collections of all corpora, with cross-process safety in embedded mode."""

    def __init__(
        self,
        *,
        root: Path,
        catalog: Catalog,
        chroma_url: str | None,
        embedder: str,
        dimension: int,
        database: str | None = None,
    ) -> None:
        self._root = root
        self._catalog = catalog
        self._url = chroma_url
        self._database = database
        self._embedder = embedder
        self._dimension = dimension
        self._lock_path = root / "retrieval-write.lock"
        location = chroma_url or str((root / "chroma").resolve())
        self._key = f"{location}#{database or ''}"
        with _SHARED_LOCK:
            self._shared = _SHARED.setdefault(self._key, _SharedClient())
            self._shared.users += 1
        self._lock = self._shared.lock
        self._closed = False

    # -- client lifecycle ---------------------------------------------------------------

    def _open(self) -> Any:
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        if self._url:
            host, port, ssl = _server_address(self._url)
            client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
        else:
            client = chromadb.PersistentClient(path=str(self._root / "chroma"), settings=settings)
        if self._database:
            _ensure_database(client, self._database)
            client.set_database(self._database)
        return client

    def _close(self) -> None:
        shared = self._shared
        if shared.client is None:
            return
        # Chroma refcounts its per-location system: closing our (only) client stops it, so
        # the next embedded client reloads the collections from disk; for a server client
        # it closes the HTTP connections.
        try:
            # Chroma's HTTP clients (the client and its admin client) do not close their
            # connection pools when stopped.
            admin = getattr(shared.client, "_admin_client", None)
            for owner in (shared.client, admin):
                session = getattr(getattr(owner, "_server", None), "_session", None)
                if session is not None:
                    session.close()
            shared.client.close()
        except Exception:  # a client that cannot close cleanly is dropped all the same
            logger.warning("chroma client did not close cleanly")
        shared.client = None
        shared.collections.clear()

    def _fresh_client(self) -> Any:
        """The client, reopened when another process changed the embedded store."""
        shared = self._shared
        if not self._url:
            epoch = self._catalog.vector_epoch(self._key)
            if epoch != shared.epoch:
                self._close()
                shared.epoch = epoch
        if shared.client is None:
            try:
                shared.client = self._open()
            except Exception as exc:
                raise RetrievalError("vector_store_unavailable", type(exc).__name__) from exc
        return shared.client

    def close(self) -> None:
        """Release this store; the client closes with the last store of the location."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            with _SHARED_LOCK:
                self._shared.users -= 1
                last = self._shared.users == 0
                if last:
                    _SHARED.pop(self._key, None)
            if last:
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
                    self._shared.epoch = self._catalog.bump_vector_epoch(self._key)
                    try:
                        yield
                    finally:
                        self._shared.epoch = self._catalog.bump_vector_epoch(self._key)
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def _collection(self, corpus: str, *, create: bool) -> Any | None:
        client = self._fresh_client()
        name = collection_name(corpus)
        collection = self._shared.collections.get(name)
        if collection is not None:
            return collection
        try:
            if create:
                collection = client.get_or_create_collection(
                    name,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={
                        "corpus": corpus,
                        "embedder": self._embedder,
                        "dimension": self._dimension,
                    },
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
        self._shared.collections[name] = collection
        return collection

    # -- operations -----------------------------------------------------------------------

    def upsert(
        self,
        corpus: str,
        ids: Sequence[str],
        vectors: np.ndarray,
        metadatas: Sequence[dict[str, str | int]],
    ) -> None:
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
                collection.delete(ids=list(ids[start : start + batch]))

    def drop(self, corpus: str) -> None:
        """Delete the corpus's collection (call inside ``writing``)."""
        with self._lock:
            client = self._fresh_client()
            name = collection_name(corpus)
            self._shared.collections.pop(name, None)
            try:
                client.delete_collection(name)
            except Exception as exc:
                if not _is_not_found(exc):
                    raise RetrievalError("vector_store_unavailable", type(exc).__name__) from exc

    def query(self, corpus: str, vector: np.ndarray, n: int) -> list[DenseHit]:
        """The ``n`` nearest chunks by cosine similarity, best first.

        Only distances are fetched: reading metadata back costs Chroma a few milliseconds
        per query at 100,000 chunks, and the caller knows which ids are live anyway.
        """
        with self._lock:
            collection = self._collection(corpus, create=False)
            if collection is None:
                return []
            try:
                result = collection.query(
                    query_embeddings=vector.reshape(1, -1), n_results=n, include=["distances"]
                )
            except Exception as exc:
                raise RetrievalError("vector_store_unavailable", type(exc).__name__) from exc
        ids = result["ids"][0]
        distances = (result.get("distances") or [[]])[0]
        return [
            DenseHit(chunk_id=chunk_id, similarity=1.0 - float(distance))
            for chunk_id, distance in zip(ids, distances, strict=False)
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


def _ensure_database(client: Any, name: str) -> None:
    """Create a Chroma database unless it exists; several processes may race to do it."""
    admin = client._admin_client  # the client's own (an extra one would keep it open)
    try:
        admin.get_database(name)
        return
    except Exception as exc:
        if not _is_not_found(exc):
            raise
    try:
        admin.create_database(name)
        logger.info("chroma database %s created", name)
    except Exception:
        admin.get_database(name)  # another process created it meanwhile


def _server_address(url: str) -> tuple[str, int, bool]:
    """Host, port and TLS flag of a Chroma server URL."""
    parsed = urlparse(url)
    ssl = parsed.scheme == "https"
    return parsed.hostname or "localhost", parsed.port or (443 if ssl else 8000), ssl


def _is_not_found(exc: Exception) -> bool:
    name = type(exc).__name__
    return name in {"NotFoundError", "InvalidCollectionException"} or (
        "does not exist" in str(exc) or "not found" in str(exc).lower()
    )
