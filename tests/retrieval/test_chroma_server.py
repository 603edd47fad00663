"""Client/server mode: the index on a real `chroma run` server, instances kept apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.embedding import Embedder
from retrieval.index import SearchIndex
from tests.chroma import ChromaServer
from tests.retrieval.corpus import chunks_of

pytestmark = pytest.mark.slow


def _index(root: Path, embedder: Embedder, server: ChromaServer, database: str) -> SearchIndex:
    return SearchIndex(
        root=root, embedder=embedder, chroma_url=server.url, chroma_database=database
    )


def test_index_on_a_chroma_server(
    tmp_path: Path, embedder: Embedder, chroma_server: ChromaServer
) -> None:
    index = _index(tmp_path / "index", embedder, chroma_server, chroma_server.new_database())
    try:
        assert index.ping()
        index.replace_document(
            corpus="c", document_id="passeport", version=1, chunks=chunks_of("passeport")
        )
        index.replace_document(
            corpus="c", document_id="permis", version=1, chunks=chunks_of("permis")
        )
        best = index.search(corpus="c", query="permis de conduire perdu", k=1)[0]
        assert best.chunk.document_id == "permis" and best.dense_rank == 1
        index.delete_document(corpus="c", document_id="permis")
        assert {p.chunk.document_id for p in index.search(corpus="c", query="permis")} == {
            "passeport"
        }
    finally:
        index.close()
    assert not (tmp_path / "index" / "chroma").exists()  # nothing embedded on disk


def test_instances_sharing_a_server_do_not_see_each_other(
    tmp_path: Path, embedder: Embedder, chroma_server: ChromaServer
) -> None:
    mairie = _index(tmp_path / "a", embedder, chroma_server, chroma_server.new_database())
    prefecture = _index(tmp_path / "b", embedder, chroma_server, chroma_server.new_database())
    try:
        mairie.replace_document(
            corpus="c", document_id="permis", version=1, chunks=chunks_of("permis")
        )
        prefecture.replace_document(
            corpus="c", document_id="passeport", version=1, chunks=chunks_of("passeport")
        )
        permis = [c.chunk_id for c in chunks_of("permis")]
        # Same corpus name on the same server: each instance has only its own vectors.
        assert mairie.vectors.existing_ids("c", permis) == set(permis)
        assert prefecture.vectors.existing_ids("c", permis) == set()
        hits = prefecture.search(corpus="c", query="permis de conduire perdu", k=5)
        assert {p.chunk.document_id for p in hits} == {"passeport"}
    finally:
        mairie.close()
        prefecture.close()
