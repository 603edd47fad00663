"""Evaluation datasets: the shared format (documents/ + questions.jsonl) and the demo's
questions.md, read into the same objects.

A dataset is one or more *sets*, each a folder of documents and the questions asked of it.
The shared format is one set. ``corpora/demo/questions.md`` holds several (the town's
procedures, the course), written for people to read; its grammar is described at the top
of that file: a ``## Title (`folder/`)`` heading opens a set, ``**file.md**`` names the
document that answers the questions below it, ``- question → « expected » | « other »``
is a question, and an indented ``- puis : question → « expected »`` is a follow-up asked
in the same conversation as the question above it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DOCUMENT_SUFFIXES = (".md", ".txt", ".html", ".pdf", ".docx", ".odt")


@dataclass
class Question:
    """One question of a set, with what a right answer must contain."""

    id: str
    question: str
    doc_ids: list[str]
    answers: list[str]  # any one of them is enough; empty when unknown
    answerable: bool
    group: str = "main"  # "main", "uncovered", "followup", "informal", or CHECK_GROUPS
    follows: str | None = None  # id of the question asked just before, same conversation

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "doc_ids": self.doc_ids,
            "answers": self.answers,
            "answerable": self.answerable,
            "group": self.group,
            "follows": self.follows,
        }


@dataclass
class EvalSet:
    """Documents (one file each; the id is the file stem) and the questions asked of them."""

    name: str
    documents: list[Path]
    questions: list[Question] = field(default_factory=list)


def load_sets(path: Path) -> list[EvalSet]:
    """The sets of a dataset folder, whichever of the two formats it is in."""
    if (path / "questions.jsonl").is_file():
        return [_load_jsonl(path)]
    if (path / "questions.md").is_file():
        return _load_markdown(path)
    raise FileNotFoundError(f"{path}: no questions.jsonl or questions.md")


def is_dataset(path: Path) -> bool:
    return (path / "questions.jsonl").is_file() or (path / "questions.md").is_file()


def _documents(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in DOCUMENT_SUFFIXES)


def _load_jsonl(path: Path) -> EvalSet:
    questions = []
    with open(path / "questions.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            answer = row.get("answer")
            questions.append(
                Question(
                    id=str(row["id"]),
                    question=row["question"],
                    doc_ids=list(row.get("doc_ids") or []),
                    answers=[answer] if answer else [],
                    answerable=bool(row.get("answerable", True)),
                )
            )
    return EvalSet(path.resolve().name, _documents(path / "documents"), questions)


_SET_HEADING = re.compile(r"^##\s+(?P<title>.*?)\s*\(`(?P<folder>[^`]+?)/?`\)\s*$")
_DOCUMENT = re.compile(r"^\*\*(?P<file>[^*]+)\*\*\s*$")
_QUESTION = re.compile(r"^(?P<indent>\s*)-\s+(?:puis\s*:\s*)?(?P<text>.+?)\s*$")
_EXPECTED = re.compile(r"«\s*(.+?)\s*»")


# Written apart, to check the product on wording nobody tuned it on; never calibrated on.
CHECK_GROUPS = frozenset({"citizen", "citizen_uncovered"})
UNANSWERABLE_GROUPS = frozenset({"uncovered", "citizen_uncovered"})


def _group(title: str) -> str:
    lowered = title.lower()
    if lowered.startswith("hors des documents, formulations de citoyens"):
        return "citizen_uncovered"
    if lowered.startswith("formulations de citoyens"):
        return "citizen"
    if lowered.startswith("hors des documents"):
        return "uncovered"
    if lowered.startswith("questions de suite"):
        return "followup"
    if lowered.startswith("formulations familières"):
        return "informal"
    return "main"


def _load_markdown(path: Path) -> list[EvalSet]:
    sets: dict[str, EvalSet] = {}
    current: EvalSet | None = None
    group = "main"
    document: str | None = None
    previous: Question | None = None
    text = (path / "questions.md").read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        heading = _SET_HEADING.match(line)
        if heading:
            folder = heading["folder"]
            if folder not in sets:
                sets[folder] = EvalSet(folder, _documents(path / folder))
            current, group, document, previous = sets[folder], _group(heading["title"]), None, None
            continue
        if line.startswith("## "):
            current = None  # a section of prose, not of questions
            continue
        if current is None:
            continue
        named = _DOCUMENT.match(line)
        if named:
            document = Path(named["file"]).stem
            continue
        asked = _QUESTION.match(line)
        if not asked:
            continue
        question_text, _, expected = asked["text"].partition("→")
        answers = _EXPECTED.findall(expected)
        is_followup = bool(asked["indent"]) and previous is not None
        question = Question(
            id=f"{current.name}-{number}",
            question=question_text.strip(),
            doc_ids=[document] if document and group not in UNANSWERABLE_GROUPS else [],
            answers=answers,
            answerable=group not in UNANSWERABLE_GROUPS,
            group=group,
            follows=previous.id if is_followup and previous else None,
        )
        if is_followup:
            question.group = "followup"
        else:
            previous = question
        current.questions.append(question)
    return [s for s in sets.values() if s.questions]
