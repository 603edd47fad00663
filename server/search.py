"""The search index as the settings describe it: one place for the app and the CLI."""

from __future__ import annotations

from retrieval.embedding import load_embedder
from retrieval.index import SearchIndex
from server.settings import Settings


def open_search_index(settings: Settings) -> SearchIndex:
    """Catalog under the data folder, Chroma embedded or on a server, the embedder loaded."""
    return SearchIndex(
        root=settings.data_dir,
        embedder=load_embedder(settings.embedding_model, cache=settings.embedding_cache_path),
        chroma_url=settings.chroma_url,
        chroma_database=settings.chroma_database,
        reranker_model=settings.reranker_model,
    )
