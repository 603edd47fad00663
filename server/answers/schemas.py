"""Request and response bodies of the answers API (corpora, ask, answers, feedback)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from corpora.hygiene import clean_text


def clean_question(value: str) -> str:
    """The question without control or invisible characters; a blank one is refused
    (the error type ``blank_question`` gets its own message, see server/errors.py)."""
    cleaned = clean_text(value).strip()
    if not cleaned:
        raise PydanticCustomError("blank_question", "The question is blank.")
    return cleaned


class CorpusOut(BaseModel):
    name: str
    title: str
    kind: Literal["procedures", "course"]
    review_policy: Literal["never", "flagged", "always"]
    language: str


class CorporaOut(BaseModel):
    corpora: list[CorpusOut]


class AskIn(BaseModel):
    corpus: str = Field(min_length=1, max_length=64, description="Corpus name.")
    question: str = Field(
        min_length=1,
        max_length=2000,
        description="The question asked; control and invisible characters are removed, and "
        "one left blank is refused (422, `blank_question`).",
    )
    conversation_id: str | None = Field(
        default=None, max_length=64, description="Continue this conversation."
    )

    @field_validator("question")
    @classmethod
    def _clean_question(cls, value: str) -> str:
        return clean_question(value)


class CitationOut(BaseModel):
    n: int
    document_id: int | str
    title: str
    excerpt: str
    section: str = ""
    page: int | None = None
    chunk_id: str = ""
    url: str | None = Field(
        default=None, description="Where the cited document lives on the web (synced pages)."
    )


class AnswerOut(BaseModel):
    answer_id: str
    conversation_id: str
    status: Literal["generating", "released", "pending_review", "declined", "rejected"]
    question: str
    answer: str | None = Field(description="Null while the answer is held for review.")
    citations: list[CitationOut]
    message: str | None = Field(
        default=None, description="What to tell the asker about this status (translated)."
    )
    verified: str | None = Field(
        default=None, description="« Réponse vérifiée par … le … » for a verified answer."
    )
    energy_wh: float | None = Field(
        default=None,
        description="Estimated Wh spent generating this answer (tokens × configured Wh per "
        "1,000 tokens; docs/energy.md). Null when nothing was generated or not visible.",
    )
    energy_label: str | None = Field(
        default=None, description="energy_wh for people, e.g. « 4,6 mWh »."
    )
    reviewed_by: Literal["agent", "teacher"] = Field(
        default="agent",
        description="Who reviews the answers of this corpus: its agents (procedures) or its "
        "teachers (a course); the words shown to the asker follow.",
    )
    human_requested: bool = Field(
        default=False, description="The asker asked for a person; the question is queued."
    )
    feedback: Literal["helpful", "not_helpful"] | None = Field(
        default=None, description="What the asker said of this answer (they may change it)."
    )


class FeedbackIn(BaseModel):
    helpful: bool = Field(description="Whether the answer helped.")
    comment: str | None = Field(default=None, max_length=2000, description="Optional comment.")


class FeedbackOut(BaseModel):
    answer_id: str
    helpful: bool
    queued: bool = Field(description="True when the answer was sent to the review queue.")


class HumanIn(BaseModel):
    email: str | None = Field(
        default=None,
        max_length=254,
        description="An address for the reply (only when the instance sends e-mail); kept "
        "until the reply is sent, never shown to reviewers in full.",
    )
