"""A new document's units are embedded ahead of the first question about it."""

from __future__ import annotations

import time
import uuid

from fastapi.testclient import TestClient

from retrieval.embedding import CachedEmbedder
from review.extractive import comparable_texts
from tests.helpers import add_corpus, add_document, state

FICHE = """# Carte d'identité

## Coût

La carte d'identité est gratuite. En cas de perte ou de vol, un timbre fiscal de 25 € est demandé.

## Pièces à fournir

Apportez les originaux des documents suivants :
- un justificatif de domicile de moins d'un an ;
- une photo d'identité récente.
"""


def test_the_units_of_a_new_version_are_in_the_embedding_cache_before_anyone_asks(
    client: TestClient,
) -> None:
    add_corpus(client, "mairie")
    # Words never seen before: the suite's embedding cache is shared between runs.
    fresh = FICHE.replace("récente", f"récente (réf. {uuid.uuid4().hex})")
    document_id = add_document(client, "mairie", "carte.md", fresh)
    index = state(client).index
    embedder = index.embedder
    assert isinstance(embedder, CachedEmbedder)
    texts = [
        text
        for chunk in index.document_chunks(corpus="mairie", document_id=str(document_id))
        for text in comparable_texts(chunk.title, chunk.section, chunk.text)
    ]
    assert len(texts) >= 4  # two sentences and two list items, at least

    deadline = time.monotonic() + 60
    while not all(embedder.holds(t) for t in texts) and time.monotonic() < deadline:
        time.sleep(0.2)

    assert all(embedder.holds(t) for t in texts)
    assert any("timbre fiscal de 25 €" in t and "Coût" in t for t in texts)
