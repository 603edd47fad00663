"""Request and response bodies of the review API (``/api/v1/reviews``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from server.answers.schemas import CitationOut

ReviewStateName = Literal["pending", "claimed", "approved", "rejected"]


class ReasonOut(BaseModel):
    code: str = Field(description="Why the answer was held (weak_support, sensitive_topic...).")
    detail: str = ""
    label: str = Field(description="The reason in the caller's language.")


class PassageOut(BaseModel):
    n: int = Field(description="The number the answer's markers [n] refer to.")
    document_id: int | str
    version: int | None = None
    title: str = ""
    section: str = ""
    page: int | None = None
    excerpt: str = ""
    score: float | None = None
    cited: bool = Field(default=False, description="Whether the current text cites it.")


class PersonOut(BaseModel):
    id: int
    name: str
    role: str


class FeedbackOut(BaseModel):
    helpful: bool
    comment: str | None = Field(default=None, description="Personal data masked.")
    given_at: datetime


class ReviewOut(BaseModel):
    id: int
    answer_id: str
    corpus: str
    corpus_title: str
    state: ReviewStateName = Field(description="A claim whose lease ran out reads as pending.")
    reasons: list[ReasonOut]
    version: int = Field(description="Send it back with every action; a stale one gets 409.")
    priority: int
    question: str = Field(description="The question, personal data masked.")
    draft: str | None = Field(description="The text under review (the final text once approved).")
    model_draft: str | None = Field(default=None, description="What the model wrote.")
    citations: list[CitationOut]
    passages: list[PassageOut]
    claimed_by: PersonOut | None = None
    claim_expires_at: datetime | None = None
    claimed_by_me: bool = False
    created_at: datetime
    waiting_seconds: float
    decided_at: datetime | None = None
    decided_by: PersonOut | None = None
    edited: bool = False
    reject_reason: str | None = None
    verified_answer_id: int | None = Field(
        default=None, description="The verified answer saved from this review, if any."
    )
    feedback: FeedbackOut | None = Field(
        default=None, description="What the asker said of the answer (masked comment)."
    )
    reply_by_email: str | None = Field(
        default=None,
        description="The asker left an address for the reply (masked: « j•••@e•••.org »); "
        "they will get the decision by e-mail.",
    )


class ReviewsOut(BaseModel):
    reviews: list[ReviewOut]


class VersionIn(BaseModel):
    version: int = Field(ge=1, le=2_147_483_647, description="The item's version the caller saw.")


class ApproveIn(VersionIn):
    answer: str | None = Field(
        default=None,
        max_length=8000,
        description="Edited text; markers [n] must point to the answer's passages "
        "(others are removed). Absent: the draft is approved as is.",
    )
    save_verified: bool = Field(
        default=False, description="Also keep it as a verified answer for close paraphrases."
    )


class RejectIn(VersionIn):
    reason: str = Field(
        min_length=1, max_length=500, description="Shown to the asker, politely worded."
    )


class RatesOut(BaseModel):
    key: str
    label: str
    waiting: int
    decided: int
    approved: int
    edited: int
    rejected: int
    approval_rate: float | None
    edit_rate: float | None
    rejection_rate: float | None
    median_review_seconds: float | None


class OverdueOut(BaseModel):
    review_id: int
    corpus: str
    priority: int
    waiting_seconds: float


class StatsOut(BaseModel):
    total: RatesOut
    per_corpus: list[RatesOut]
    per_reviewer: list[RatesOut]
    overdue: list[OverdueOut]
    overdue_after_minutes: int
