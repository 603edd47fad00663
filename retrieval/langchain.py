"""LangChain adapter: a retriever over ``SearchIndex.search`` for one corpus."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from retrieval.index import SearchIndex
from retrieval.types import Passage


def passage_to_document(passage: Passage) -> Document:
    """A LangChain document whose metadata carries the chunk's identity and the scores."""
    chunk = passage.chunk
    metadata: dict[str, Any] = {
        "chunk_id": chunk.chunk_id,
        "document_id": chunk.document_id,
        "version": chunk.version,
        "ordinal": chunk.ordinal,
        "title": chunk.title,
        "section": chunk.section,
        "page": chunk.page,
        "score": passage.score,
        "lexical_score": passage.lexical_score,
        "dense_score": passage.dense_score,
        "lexical_rank": passage.lexical_rank,
        "dense_rank": passage.dense_rank,
        "title_score": passage.title_score,
        "rerank_score": passage.rerank_score,
    }
    return Document(page_content=chunk.text, metadata=metadata, id=chunk.chunk_id)


class GuichetRetriever(BaseRetriever):
    """Hybrid retrieval of one corpus, for LangChain chains."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: SearchIndex
    corpus: str
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        passages = self.index.search(corpus=self.corpus, query=query, k=self.k)
        return [passage_to_document(p) for p in passages]
