"""The demo corpora shipped under corpora/demo/ (fictional content written for Guichet)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from corpora.models import CorpusKind, ReviewPolicy

DEMO_DIR = Path(__file__).parent / "demo"


@dataclass(frozen=True)
class DemoCorpus:
    name: str
    title: str
    kind: CorpusKind
    review: ReviewPolicy
    folder: Path


DEMO_CORPORA = (
    DemoCorpus(
        name="demo-procedures",
        title="Mairie de Val-d'Orme — démarches",
        kind=CorpusKind.procedures,
        # Answers in doubt wait for an agent (the citizen is told, then answered); the
        # course holds every answer for the teacher.
        review=ReviewPolicy.flagged,
        folder=DEMO_DIR / "procedures",
    ),
    DemoCorpus(
        name="demo-svt-5e",
        title="SVT — Classe de 5e",
        kind=CorpusKind.course,
        review=ReviewPolicy.always,
        folder=DEMO_DIR / "cours-svt",
    ),
)
