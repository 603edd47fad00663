"""Calibrate the verified-answer matcher on two sets; the rule is in docs/answers.md.

1. cnil-faq paraphrase groups (../shared/eval/cnil-faq). Entries with several questions
   are paraphrases of one another. One question of each such entry plays a verified
   answer; the others must find it (positives). Half of the single-question entries are
   verified answers too (distractors); the other half ask questions that no verified
   answer covers and must find nothing (negatives). A served answer counts as right when
   its expected answer is the same text, or nearly (the FAQ holds duplicated entries whose
   answers differ by a few words). The candidates come from the production path: the
   verified questions are indexed by ``review.verified.index_verified`` in a real
   ``SearchIndex`` with the chosen embedder, and searched as ``find_verified`` searches.
2. Different questions about the same page: the answerable questions of
   corpora/demo/questions.md (main and informal; follow-ups never reuse a verified
   answer), read by ``retrieval.datasets.load_sets``. Each plays the verified answer in
   turn and every other question of the file (uncovered ones too) is scored against it
   directly, candidate or not. A pair sharing no expected answer that reaches the
   threshold is a wrong serve; a pair sharing one (an informal rewording) a right one.
   The near misses below (``NEAR_MISSES``) are wrong serves too, either way round: added
   after the first run (docs/answers.md), they make the rule stricter, never looser.

Every score is computed by ``review.verified``'s own scoring, never a copy of it.

Rule (written before the figures; a verified answer is released at once under a person's
name, so serving it to another question is the worst error): among the settings tried,
those with precision at least 0.9 on cnil-faq and no wrong serve on the demo pairs; of
them, the highest cnil-faq recall, then the higher threshold (then the stricter setting,
a tie-break added when two settings gave the same figures). Nothing else is loosened
when the recall wished for (0.5) is out of reach.

Usage: OMP_NUM_THREADS=1 .venv/bin/python scripts/calibrate_verified.py [--model e5] [--root DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from retrieval.datasets import CHECK_GROUPS, Question, load_sets  # noqa: E402
from retrieval.embedding import TextEmbedder, load_embedder  # noqa: E402
from retrieval.index import SearchIndex  # noqa: E402
from retrieval.types import Passage  # noqa: E402
from review.models import VerifiedAnswer  # noqa: E402
from review.verified import (  # noqa: E402
    CANDIDATES,
    MatchRule,
    accepted,
    dense_similarity,
    index_name,
    index_verified,
    lexical_similarity,
    rule_for,
    score_candidates,
)

CNIL = ROOT.parent / "shared" / "eval" / "cnil-faq" / "questions.jsonl"
DEMO = ROOT / "corpora" / "demo"
# The rule in use before the symmetric comparison (for the before/after figures).
BEFORE = MatchRule(dense_weight=0.7, threshold=0.94, symmetric=False, same_intents=False)
WEIGHTS = (0.3, 0.5, 0.7, 0.9, 1.0)
THRESHOLDS = [round(float(t), 2) for t in np.arange(0.60, 0.995, 0.01)]
MARGINS = (0.0, 0.02, 0.05)
MIN_PRECISION = 0.9
# Different questions about one page of the demo whose answers differ, written standalone:
# the two of docs/answers.md, the first questions of the demo's follow-ups with their
# follow-up, and questions changing one word or figure of a page's table (added after the
# first run: the rule had then chosen a setting serving « mardi » to « mercredi »). None
# may match the other, either way round.
NEAR_MISSES = (
    ("Combien coûte un passeport ?", "Combien coûte un passeport pour un enfant ?"),
    ("Où déposer ma demande de carte d'identité ?", "Quels documents pour une carte d'identité ?"),
    ("Combien coûte une carte d'identité ?", "Combien coûte un passeport ?"),
    (
        "Combien coûte la salle polyvalente pour un week-end ?",
        "Combien coûte la salle du Lavoir pour un week-end ?",
    ),
    (
        "Quand faut-il inscrire mon enfant pour sa rentrée en petite section ?",
        "Quand faut-il inscrire mon enfant à la cantine ?",
    ),
    (
        "Quel est le délai d'instruction d'un permis de construire pour une maison ?",
        "Quel est le délai d'instruction d'une déclaration préalable ?",
    ),
    ("La déchèterie est-elle ouverte le mardi ?", "La déchèterie est-elle ouverte le lundi ?"),
    ("La déchèterie est-elle ouverte le mardi ?", "La déchèterie est-elle ouverte le mercredi ?"),
    ("Combien coûte un passeport pour un adulte ?", "Combien coûte un passeport pour un mineur ?"),
    (
        "Combien coûte un repas à la cantine avec un quotient familial de 900 € ?",
        "Combien coûte un repas à la cantine avec un quotient familial de 1600 € ?",
    ),
    (
        "Combien coûte la salle polyvalente pour un week-end ?",
        "Combien coûte la salle polyvalente pour une journée en semaine ?",
    ),
    (
        "Faut-il une autorisation pour un abri de jardin de 12 m² ?",
        "Faut-il une autorisation pour un abri de jardin de 30 m² ?",
    ),
    # Added after a review (2 December): longer forms, where one word weighs less.
    (
        "La déchèterie est-elle ouverte le mardi après-midi pendant les vacances scolaires ?",
        "La déchèterie est-elle ouverte le mercredi après-midi pendant les vacances scolaires ?",
    ),
    (
        "Combien coûte la cantine pour un enfant avec un quotient familial de 900 euros ?",
        "Combien coûte la cantine pour un enfant avec un quotient familial de 1600 euros ?",
    ),
    (
        "Combien coûte le remplacement d'une carte d'identité perdue ?",
        "Combien coûte le remplacement d'une carte d'identité périmée ?",
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
        "Quelles pièces fournir pour une demande de logement avec 2 enfants ?",
        "Quelles pièces fournir pour une demande de logement avec 3 enfants ?",
    ),
)


@dataclass
class CnilSet:
    """The paraphrase groups: for each query, the candidates the search offers."""

    verified: list[dict]
    queries: list[dict]
    candidates: list[list[Passage]]
    positives: int

    def same(self, query: dict, j: int) -> bool:
        a, b = query, self.verified[j]
        return a["answer"] == b["answer"] or (
            lexical_similarity(a["answer"][:300], b["answer"][:300]) >= 0.6
        )


@dataclass
class DemoSet:
    """Every (verified, asked) pair of the demo's questions, and whether both share an
    expected answer (a right serve) or not (a wrong one)."""

    verified: list[Question]
    asked: list[Question]
    searched: np.ndarray  # cosine of each verified question (passage) with each asked one

    def right(self, v: Question, q: Question) -> bool:
        return q.answerable and bool(set(v.answers) & set(q.answers))


def cnil_set(index: SearchIndex) -> CnilSet:
    rows = [json.loads(line) for line in CNIL.read_text(encoding="utf-8").splitlines()]
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row["doc_ids"][0]].append(row)
    multi = [qs for qs in groups.values() if len(qs) > 1]
    single = [qs[0] for qs in groups.values() if len(qs) == 1]
    verified = [qs[0] for qs in multi] + single[::2]
    queries = [q for qs in multi for q in qs[1:]] + single[1::2]
    for number, row in enumerate(verified, start=1):
        entry = VerifiedAnswer(id=number, question=row["question"], text=row["answer"])
        index_verified(index=index, corpus="cnil", verified=entry)
    candidates = [
        index.search(corpus=index_name("cnil"), query=row["question"], k=CANDIDATES)
        for row in queries
    ]
    found = CnilSet(verified, queries, candidates, 0)
    found.positives = sum(1 for r in queries if any(found.same(r, j) for j in range(len(verified))))
    return found


def demo_set(embedder: TextEmbedder) -> DemoSet:
    questions = [
        q
        for s in load_sets(DEMO)
        for q in s.questions
        if q.group != "followup" and q.group not in CHECK_GROUPS
    ]
    verified = [q for q in questions if q.answerable]
    passages = embedder.embed_documents_array([v.question for v in verified])
    asked = np.vstack([embedder.embed_query_array(q.question) for q in questions])
    return DemoSet(verified, questions, passages @ asked.T)


def cnil_figures(
    rule: MatchRule, cnil: CnilSet, embedder: TextEmbedder, scored: list | None = None
) -> tuple[float, float, int]:
    """(precision, recall, served) of ``rule`` on cnil-faq; ``scored``: the candidates'
    scores when already computed for this rule's signals."""
    if scored is None:
        scored = cnil_scores(rule, cnil, embedder)
    served = correct = 0
    for query, candidates in zip(cnil.queries, scored, strict=True):
        chosen = accepted(rule, candidates)
        if chosen:
            served += 1
            correct += int(cnil.same(query, chosen[0][1] - 1))
    return (correct / served if served else 1.0), correct / cnil.positives, served


def cnil_scores(rule: MatchRule, cnil: CnilSet, embedder: TextEmbedder) -> list:
    return [
        score_candidates(rule=rule, embedder=embedder, question=q["question"], candidates=c)
        for q, c in zip(cnil.queries, cnil.candidates, strict=True)
    ]


def demo_scores(rule: MatchRule, demo: DemoSet, embedder: TextEmbedder) -> list:
    """(score, right) of every pair of different questions."""
    pairs = []
    for i, v in enumerate(demo.verified):
        for j, q in enumerate(demo.asked):
            if q.id == v.id or q.question == v.question:
                continue
            dense = dense_similarity(
                rule=rule,
                embedder=embedder,
                question=q.question,
                candidate=v.question,
                searched=float(demo.searched[i, j]),
            )
            score = rule.score(question=q.question, candidate=v.question, dense=dense)
            pairs.append((score, demo.right(v, q)))
    return pairs + near_miss_scores(rule, embedder)


def near_miss_scores(rule: MatchRule, embedder: TextEmbedder) -> list:
    """(score, False) of each near miss, both ways round (the search's cosine is the
    verified question as a passage)."""
    pairs = []
    for a, b in NEAR_MISSES:
        for asked, candidate in ((a, b), (b, a)):
            searched = float(
                embedder.embed_documents_array([candidate])[0] @ embedder.embed_query_array(asked)
            )
            dense = dense_similarity(
                rule=rule, embedder=embedder, question=asked, candidate=candidate, searched=searched
            )
            pairs.append((rule.score(question=asked, candidate=candidate, dense=dense), False))
    return pairs


def demo_figures(rule: MatchRule, pairs: list) -> tuple[int, int, int, float]:
    """(wrong serves, right serves, rewordings, highest wrong score): each pair is scored
    alone, as if its verified question were the only one."""
    wrong = [s for s, right in pairs if not right]
    rewordings = [s for s, right in pairs if right]
    highest = max(wrong, default=0.0)
    # Accepting is monotone in the score: no wrong serve unless the highest is accepted.
    served_wrong = (
        sum(1 for s in wrong if accepted(rule, [(s, 0)])) if accepted(rule, [(highest, 0)]) else 0
    )
    right = sum(1 for s in rewordings if accepted(rule, [(s, 0)]))
    return served_wrong, right, len(rewordings), highest


def show(label: str, rule: MatchRule, cnil: CnilSet, demo: DemoSet, embedder) -> None:
    precision, recall, served = cnil_figures(rule, cnil, embedder)
    wrong, right, rewordings, highest = demo_figures(rule, demo_scores(rule, demo, embedder))
    print(
        f"{label}: {rule}\n  cnil-faq precision={precision:.3f} recall={recall:.3f} "
        f"served={served}; demo wrong serves={wrong} rewordings served={right}/{rewordings} "
        f"highest wrong pair={highest:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="e5")
    parser.add_argument("--root", type=Path, default=None)
    args = parser.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="guichet-verified-"))
    embedder = load_embedder(args.model, cache=root / "embedding-cache.sqlite3")
    index = SearchIndex(root=root, embedder=embedder)
    cnil = cnil_set(index)
    demo = demo_set(embedder)
    print(
        f"embedder={embedder.name} cnil-faq: verified={len(cnil.verified)} "
        f"queries={len(cnil.queries)} with an answer={cnil.positives}; demo: "
        f"verified={len(demo.verified)} asked={len(demo.asked)}"
    )
    print(
        "symmetric same_intents dense_weight margin | best threshold under the rule: "
        "precision recall served | demo wrong right/rewordings highest_wrong"
    )
    best: tuple[tuple[float, float, bool, float], MatchRule] | None = None
    for symmetric, same_intents, weight in itertools.product((False, True), (False, True), WEIGHTS):
        signals = MatchRule(weight, 1.0, symmetric=symmetric, same_intents=same_intents)
        scored = cnil_scores(signals, cnil, embedder)
        pairs = demo_scores(signals, demo, embedder)
        for margin in MARGINS:
            row = None
            for threshold in THRESHOLDS:
                rule = replace(signals, threshold=threshold, margin=margin)
                precision, recall, served = cnil_figures(rule, cnil, embedder, scored)
                wrong, right, rewordings, highest = demo_figures(rule, pairs)
                if precision < MIN_PRECISION or wrong:
                    continue
                if row is None or recall >= row[1]:  # ties: the higher threshold
                    row = (rule, recall, precision, served, right, rewordings, highest)
            head = f"{symmetric!s:5} {same_intents!s:5} {weight:.1f} {margin:.2f} |"
            if row is None:
                print(f"{head} none")
                continue
            rule, recall, precision, served, right, rewordings, highest = row
            print(
                f"{head} {rule.threshold:.2f}: {precision:.3f} {recall:.3f} {served} | "
                f"0 {right}/{rewordings} {highest:.3f}"
            )
            # Ties: the higher threshold, then the stricter setting (intents, margin).
            key = (recall, rule.threshold, rule.same_intents, rule.margin)
            if best is None or key > best[0]:
                best = (key, rule)
    show("before", BEFORE, cnil, demo, embedder)
    show("in use", rule_for(embedder.name), cnil, demo, embedder)
    if best:
        show("chosen by the rule", best[1], cnil, demo, embedder)


if __name__ == "__main__":
    main()
