"""Who may see an answer, give feedback on it, or ask a person about it: one rule.

Every route that reaches an answer by its id (the API, the chat page, « mes questions »)
asks :func:`can_access_answer`, so the rule cannot drift between them:

- the asker may do all three: an account for the answers it asked, an anonymous
  citizen for the answers asked in the same browser session (never once signed in:
  a signed-in caller acts as their account);
- a reviewer of the answer's corpus (its owners; admins) may see it, as the review
  queue shows it to them anyway, but neither rate it nor ask a person in the asker's
  name;
- a request made with an API token limited to other corpora may do none of it;
- nobody else learns that the answer exists (the routes answer 404, not 403).
"""

from __future__ import annotations

import enum

from sqlalchemy.orm import Session

from accounts.models import User
from accounts.permissions import Action, can
from corpora.models import Corpus
from review.models import Answer, Conversation


class AnswerAction(enum.StrEnum):
    view = "view"
    feedback = "feedback"
    escalate = "escalate"


class AnswerHidden(Exception):
    """No such answer, or not one the caller may reach (the two are not told apart)."""

    code = "unknown_answer"


def owns_conversation(
    conversation: Conversation, *, user_id: int | None, session_id: str | None
) -> bool:
    """Whether the caller asked in ``conversation``: the same account, or, for a
    conversation of nobody's account, the same anonymous browser session."""
    if conversation.user_id is not None:
        return conversation.user_id == user_id
    return (
        user_id is None
        and conversation.session_id is not None
        and conversation.session_id == session_id
    )


def asked_by(answer: Answer, *, user: User | None, session_id: str | None) -> bool:
    """Whether the caller asked ``answer`` (see :func:`owns_conversation`)."""
    return owns_conversation(
        answer.conversation, user_id=user.id if user else None, session_id=session_id
    )


def can_access_answer(
    *,
    session: Session,
    answer: Answer,
    user: User | None,
    session_id: str | None,
    action: AnswerAction,
) -> bool:
    """The rule of this module's docstring, for ``user`` (None: an anonymous citizen whose
    browser session is ``session_id``)."""
    corpus = session.get_one(Corpus, answer.corpus_id)
    if (
        user is not None
        and user.token_corpora is not None
        and corpus.name not in user.token_corpora
    ):
        return False
    if asked_by(answer, user=user, session_id=session_id):
        return True
    return (
        action == AnswerAction.view
        and user is not None
        and can(session=session, user=user, action=Action.review, corpus=corpus)
    )


def reachable_answer(
    *,
    session: Session,
    answer_id: str,
    user: User | None,
    session_id: str | None,
    action: AnswerAction,
) -> Answer:
    """The answer when :func:`can_access_answer` allows ``action``; else :class:`AnswerHidden`."""
    answer = session.get(Answer, answer_id)
    if answer is None or not can_access_answer(
        session=session, answer=answer, user=user, session_id=session_id, action=action
    ):
        raise AnswerHidden(answer_id)
    return answer
