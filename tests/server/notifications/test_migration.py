"""Upgrading a database that already holds questions sends nothing about the past."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import (
    JSON,
    Boolean,
    Integer,
    String,
    TableClause,
    column,
    func,
    insert,
    select,
    table,
)

from database import UTCDateTime, make_engine, make_session_factory
from review.models import ReviewItem
from server.notifications.worker import build_notifier
from server.schema import alembic_config, upgrade
from server.settings import Settings
from tests.server.notifications.support import START
from tests.smtp import SmtpServer
from tests.storage import Storage


def _rows(table_name: str, /, **columns: Any) -> TableClause:
    return table(table_name, *(column(k, v) for k, v in columns.items()))


def test_items_queued_before_the_upgrade_are_not_announced_after_it(
    tmp_path: Path, storage: Storage, smtp: SmtpServer
) -> None:
    url = storage.database_url or f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = make_engine(url)
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")  # a database from before e-mail
        connection.execute(
            insert(
                _rows(
                    "corpora",
                    id=Integer,
                    name=String,
                    title=String,
                    kind=String,
                    review_policy=String,
                    language=String,
                    sensitive_topics=JSON,
                    created_at=UTCDateTime,
                )
            ),
            [
                {
                    "id": 1,
                    "name": "svt",
                    "title": "SVT",
                    "kind": "course",
                    "review_policy": "always",
                    "language": "fr",
                    "sensitive_topics": [],
                    "created_at": START,
                }
            ],
        )
        connection.execute(
            insert(
                _rows(
                    "users",
                    id=Integer,
                    name=String,
                    role=String,
                    active=Boolean,
                    created_at=UTCDateTime,
                )
            ),
            [{"id": 1, "name": "prof", "role": "teacher", "active": True, "created_at": START}],
        )
        connection.execute(
            insert(
                _rows("corpus_members", id=Integer, corpus_id=Integer, user_id=Integer, role=String)
            ),
            [{"id": 1, "corpus_id": 1, "user_id": 1, "role": "owner"}],
        )
        connection.execute(
            insert(_rows("conversations", id=String, corpus_id=Integer, created_at=UTCDateTime)),
            [{"id": "c1", "corpus_id": 1, "created_at": START}],
        )
        connection.execute(
            insert(
                _rows(
                    "answers",
                    id=String,
                    conversation_id=String,
                    corpus_id=Integer,
                    question=String,
                    language=String,
                    status=String,
                    citations=JSON,
                    passages=JSON,
                    reasons=JSON,
                    prompt_tokens=Integer,
                    completion_tokens=Integer,
                    human_requested=Boolean,
                    masked_personal_data=Boolean,
                    created_at=UTCDateTime,
                )
            ),
            [
                {
                    "id": "a1",
                    "conversation_id": "c1",
                    "corpus_id": 1,
                    "question": "Avant ?",
                    "language": "fr",
                    "status": "pending_review",
                    "citations": [],
                    "passages": [],
                    "reasons": [],
                    "prompt_tokens": 0,
                    "completion_tokens": 0,
                    "human_requested": False,
                    "masked_personal_data": False,
                    "created_at": START,
                }
            ],
        )
        connection.execute(
            insert(
                _rows(
                    "review_items",
                    id=Integer,
                    answer_id=String,
                    corpus_id=Integer,
                    state=String,
                    priority=Integer,
                    reasons=JSON,
                    version=Integer,
                    created_at=UTCDateTime,
                )
            ),
            [
                {
                    "id": 1,
                    "answer_id": "a1",
                    "corpus_id": 1,
                    "state": "pending",
                    "priority": 10,
                    "reasons": [],
                    "version": 1,
                    "created_at": START,
                }
            ],
        )
    upgrade(engine)  # every head, this migration among them
    sessions = make_session_factory(engine)
    try:
        with sessions() as session:
            # Nothing pointing at a table a migration rebuilt was lost on the way.
            for name in ("corpus_members", "answers", "review_items"):
                assert session.execute(select(func.count()).select_from(table(name))).scalar() == 1
            item = session.scalars(select(ReviewItem)).one()
            assert item.announced_at == item.reminded_at == item.told_at == START
            teacher = session.execute(
                select(_rows("users", email=String, notify_replies=Boolean, language=String))
            ).one()
            assert tuple(teacher) == (None, True, "fr")
        settings = Settings(data_dir=tmp_path / "data", **smtp.settings())  # type: ignore[arg-type]
        notifier = build_notifier(settings, sessions)
        assert notifier is not None
        notifier.round(START.replace(year=2027))
        assert smtp.messages() == []
    finally:
        engine.dispose()


def test_an_smtp_server_without_a_sender_is_refused_clearly(tmp_path: Path) -> None:
    try:
        Settings(data_dir=tmp_path, smtp_host="smtp.example.fr")
    except ValueError as error:
        assert "GUICHET_SMTP_SENDER est requis" in str(error)
    else:
        raise AssertionError("a server without a sender was accepted")
    assert (
        build_notifier(
            Settings(data_dir=tmp_path),
            make_session_factory(make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")),
        )
        is None
    )  # e-mail off: no worker at all
