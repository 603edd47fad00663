"""Open data: verified answers exported as JSON Lines, and imported into another instance.

One JSON object per line, one line per verified answer (format in docs/opendata.md and in
the datasheet served beside each export). Only what reviewers verified on *this* instance
leaves it, only for a corpus whose owners opened it (``corpora.open_data``) under a licence
(``corpora.licence``), and never an item touched by personal data: the question was masked
when asked, and an item is refused (skipped, counted, reported) when its source answer was
flagged by masking or when masking still finds something in its question, answer or quoted
excerpts.

An import keeps the provenance (source instance, original id, approver's role, date,
licence) in ``VerifiedAnswer.provenance``, and links each cited source to the document of
the same title in the target corpus, so that a new version of that document withdraws the
imported answer as it would a local one. An item whose sources are not all found there is
skipped: Guichet never serves an answer whose sources the asker cannot open.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from corpora.models import Corpus, Document
from corpora.repository import get_corpus
from database import utcnow
from review.models import Answer, ReviewItem, VerifiedAnswer, VerifiedSource
from review.verified import Searchable, index_verified
from server.answers.privacy import mask_personal_data
from server.i18n import Translator

FORMAT_VERSION = 1


class OpenDataError(Exception):
    """An export or import that cannot be done; ``code`` names why."""

    def __init__(self, code: str, **details: object) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


# -- the corpus owner's choice ------------------------------------------------------------


def open_data_corpora(*, session: Session) -> set[int]:
    """Ids of the corpora whose owners allow their verified answers to be published."""
    return set(session.scalars(select(Corpus.id).where(Corpus.open_data.is_(True))))


def is_open_data(*, session: Session, corpus: Corpus) -> bool:
    return bool(corpus.open_data)


# Licences offered on the owners' page; any other text is accepted too.
SUGGESTED_LICENCES = ("Licence Ouverte 2.0", "CC BY 4.0", "CC BY-SA 4.0")


def set_open_data(
    *, session: Session, corpus: Corpus, allowed: bool, licence: str | None = None
) -> None:
    """Allow (or stop) publishing ``corpus``'s verified answers; a licence is required."""
    if licence is not None:
        corpus.licence = licence.strip() or None
    if allowed and not corpus.licence:
        raise OpenDataError("licence_required", corpus=corpus.name)
    corpus.open_data = allowed
    session.flush()


def exportable(*, session: Session, corpus: Corpus) -> bool:
    """Whether anyone may download this corpus's verified answers."""
    return bool(corpus.licence) and is_open_data(session=session, corpus=corpus)


def open_corpus(*, session: Session, name: str) -> Corpus:
    """The corpus ``name`` when its verified answers are published; else not open data."""
    corpus = get_corpus(session=session, name=name)
    if corpus is None or not exportable(session=session, corpus=corpus):
        raise OpenDataError("not_open_data", corpus=name)
    return corpus


# -- the record -----------------------------------------------------------------------------


class OpenSource(BaseModel):
    """A document the answer cites: its title, the version checked, and where to read it."""

    model_config = ConfigDict(extra="ignore")

    n: int = Field(ge=1, description="The number the answer's [n] markers refer to.")
    title: str
    version: int | None = None
    url: str
    section: str = ""
    page: int | None = None
    excerpt: str = ""


class OpenProvenance(BaseModel):
    model_config = ConfigDict(extra="ignore")

    instance: str = Field(description="Address of the Guichet instance it was verified on.")
    original_id: int = Field(description="Id of the verified answer on that instance.")
    corpus: str
    exported_at: datetime


class OpenRecord(BaseModel):
    """One verified answer as published (one JSON Lines line)."""

    model_config = ConfigDict(extra="ignore")

    format: int = FORMAT_VERSION
    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)
    language: str = "fr"
    sources: list[OpenSource] = Field(min_length=1)
    approved_by_role: str = Field(description="Role of the person who approved it, not a name.")
    approved_at: datetime
    licence: str = Field(min_length=1)
    provenance: OpenProvenance


# -- export ---------------------------------------------------------------------------------


@dataclass
class ExportResult:
    corpus: str
    records: list[OpenRecord] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())


def _source_answer(session: Session, verified: VerifiedAnswer) -> Answer | None:
    answer_id = (verified.provenance or {}).get("answer_id")
    if isinstance(answer_id, str):
        return session.get(Answer, answer_id)
    if verified.source_review_id is not None:
        item = session.get(ReviewItem, verified.source_review_id)
        return item.answer if item is not None else None
    return None


def refusal(session: Session, verified: VerifiedAnswer) -> str | None:
    """Why this verified answer may not leave the instance, or None when it may."""
    answer = _source_answer(session, verified)
    if answer is not None and answer.masked_personal_data:
        return "masked_personal_data"
    texts = [verified.question, verified.text]
    texts += [str(c.get("excerpt") or "") for c in verified.citations]
    if any(mask_personal_data(text, names=False).found for text in texts):
        return "personal_data_found"
    if not verified.citations:
        return "no_sources"
    return None


def _role(session: Session, verified: VerifiedAnswer) -> str:
    if verified.approved_by_role:
        return verified.approved_by_role
    user = session.get(User, verified.approved_by) if verified.approved_by else None
    return user.role.value if user is not None else "reviewer"


def local_verified(*, session: Session, corpus: Corpus) -> list[VerifiedAnswer]:
    """The active verified answers reviewers approved here (imported ones stay out)."""
    rows = session.scalars(
        select(VerifiedAnswer)
        .where(VerifiedAnswer.corpus_id == corpus.id, VerifiedAnswer.active.is_(True))
        .order_by(VerifiedAnswer.id)
    )
    return [v for v in rows if "source_instance" not in (v.provenance or {})]


def export_verified(
    *, session: Session, corpus: Corpus, instance_url: str, now: datetime | None = None
) -> ExportResult:
    """The corpus's verified answers as open records, refusing any touched by personal data."""
    if not exportable(session=session, corpus=corpus):
        raise OpenDataError("not_open_data", corpus=corpus.name)
    assert corpus.licence is not None
    base = instance_url.rstrip("/")
    exported_at = now or utcnow()
    result = ExportResult(corpus=corpus.name)
    for verified in local_verified(session=session, corpus=corpus):
        reason = refusal(session, verified)
        if reason is not None:
            result.refused[reason] += 1
            continue
        sources = [
            OpenSource(
                n=int(c.get("n") or i),
                title=str(c.get("title") or ""),
                version=c.get("version") if isinstance(c.get("version"), int) else None,
                url=f"{base}/documents/{c.get('document_id')}",
                section=str(c.get("section") or ""),
                page=c.get("page") if isinstance(c.get("page"), int) else None,
                excerpt=str(c.get("excerpt") or ""),
            )
            for i, c in enumerate(verified.citations, start=1)
        ]
        result.records.append(
            OpenRecord(
                question=verified.question,
                answer=verified.text,
                language=corpus.language,
                sources=sources,
                approved_by_role=_role(session, verified),
                approved_at=verified.approved_at,
                licence=corpus.licence,
                provenance=OpenProvenance(
                    instance=base,
                    original_id=verified.id,
                    corpus=corpus.name,
                    exported_at=exported_at,
                ),
            )
        )
    return result


def jsonl_lines(records: Iterable[OpenRecord]) -> Iterator[str]:
    for record in records:
        yield json.dumps(record.model_dump(mode="json"), ensure_ascii=False) + "\n"


def datasheet(*, corpus: Corpus, result: ExportResult, instance_url: str, tr: Translator) -> str:
    """A short README for the export: what it holds, how it was made, its known limits."""
    values = {
        "corpus": corpus.title,
        "name": corpus.name,
        "instance": instance_url.rstrip("/"),
        "count": len(result.records),
        "refused": result.refused_total,
        "licence": corpus.licence or "",
        "format": FORMAT_VERSION,
    }
    sections = ("contents", "making", "format", "limits", "licence")
    parts = [f"# {tr('opendata.sheet.title', **values)}", ""]
    for section in sections:
        parts += [f"## {tr(f'opendata.sheet.{section}_title')}", ""]
        parts += [tr(f"opendata.sheet.{section}", **values), ""]
    return "\n".join(parts)


# -- import ---------------------------------------------------------------------------------


@dataclass
class ImportResult:
    corpus: str
    imported: list[VerifiedAnswer] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def parse_lines(lines: Iterable[str]) -> Iterator[OpenRecord | None]:
    """Records of an export file; None for a line that is not a valid record."""
    for line in lines:
        if not line.strip():
            continue
        try:
            yield OpenRecord.model_validate_json(line)
        except ValidationError:
            yield None


def _imported_keys(session: Session, corpus: Corpus) -> set[tuple[str, int]]:
    """(source instance, original id) of every answer already imported into ``corpus``."""
    keys = set()
    for provenance in session.scalars(
        select(VerifiedAnswer.provenance).where(VerifiedAnswer.corpus_id == corpus.id)
    ):
        if provenance and "source_instance" in provenance:
            keys.add((str(provenance["source_instance"]), int(provenance["original_id"])))
    return keys


def _local_documents(session: Session, corpus: Corpus) -> dict[str, Document]:
    """Indexed documents of the corpus by title (and by file name), to link sources to."""
    found: dict[str, Document] = {}
    query = select(Document).where(
        Document.corpus_id == corpus.id,
        Document.deleted_at.is_(None),
        Document.indexed_version.is_not(None),
    )
    for document in session.scalars(query.order_by(Document.id)):
        for key in (document.title, document.filename):
            if key:
                found.setdefault(key.casefold(), document)
    return found


def import_verified(
    *, session: Session, corpus: Corpus, records: Iterable[OpenRecord | None]
) -> ImportResult:
    """Add each valid, new, personal-data-free record as an active verified answer."""
    result = ImportResult(corpus=corpus.name)
    documents = _local_documents(session, corpus)
    seen = _imported_keys(session, corpus)
    for record in records:
        if record is None:
            result.skipped["invalid_record"] += 1
            continue
        texts = [record.question, record.answer, *(s.excerpt for s in record.sources)]
        if any(mask_personal_data(text, names=False).found for text in texts):
            result.skipped["personal_data_found"] += 1
            continue
        key = (record.provenance.instance, record.provenance.original_id)
        if key in seen:
            result.skipped["already_imported"] += 1
            continue
        matched = [(s, documents.get(s.title.casefold())) for s in record.sources]
        if any(document is None for _, document in matched):
            result.skipped["sources_not_found"] += 1
            continue
        verified = VerifiedAnswer(
            corpus_id=corpus.id,
            question=record.question,
            text=record.answer,
            citations=[_citation(source, document) for source, document in matched],  # type: ignore[arg-type]
            approved_by=None,
            approved_by_role=record.approved_by_role[:20],
            approved_at=record.approved_at,
            active=True,
            provenance={
                "source_instance": record.provenance.instance,
                "original_id": record.provenance.original_id,
                "source_corpus": record.provenance.corpus,
                "approved_by_role": record.approved_by_role,
                "approved_at": record.approved_at.isoformat(),
                "licence": record.licence,
                "sources": [s.model_dump(mode="json", exclude={"excerpt"}) for s in record.sources],
                "imported_at": utcnow().isoformat(timespec="seconds"),
            },
        )
        for document in {d.id: d for _, d in matched if d is not None}.values():
            verified.sources.append(
                VerifiedSource(document_id=document.id, version=document.indexed_version or 0)
            )
        session.add(verified)
        seen.add(key)
        result.imported.append(verified)
    session.flush()
    return result


def _citation(source: OpenSource, document: Document) -> dict[str, Any]:
    """A citation in the shape the answer pipeline stores, pointing at the local document."""
    return {
        "n": source.n,
        "document_id": document.id,
        "chunk_id": "",
        "version": document.indexed_version,
        "title": document.title or source.title,
        "section": source.section,
        "page": source.page,
        "excerpt": source.excerpt,
        "source_url": source.url,
    }


def index_imported(
    *, index: Searchable, corpus: Corpus, imported: Iterable[VerifiedAnswer]
) -> None:
    """Make imported questions findable like local ones (call after the commit)."""
    for verified in imported:
        index_verified(index=index, corpus=corpus.name, verified=verified)
