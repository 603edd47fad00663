"""`guichet users ...` and `guichet corpus add-owner ...`: accounts and rights from the shell.

Mounted by server/cli.py with ``register(users_app=users_app, corpus_app=corpus_app)``.
Every change goes through a ``*_recorded`` service as :data:`SHELL`, so it is written to
the audit log with ``via="cli"`` and no actor (the shell user is whoever may run the
command on the server).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from corpora.db import make_engine, make_session_factory, transaction
from corpora.models import Corpus
from corpora.repository import get_corpus
from server import accounts, audit, courses
from server.accounts import AccountError, Role, User, get_user, list_users, tokens_of
from server.database import upgrade
from server.i18n import Translator, negotiate
from server.settings import Settings

console = Console(stderr=True)
out = Console()
tr = Translator(negotiate(os.environ.get("LANG", "fr")[:2]))
SHELL = audit.Actor(id=None, via="cli")


@contextmanager
def _session() -> Iterator[Session]:
    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        upgrade(engine)
        with transaction(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _fail(code: str, **values: object) -> typer.Exit:
    console.print(f"[bold red]Erreur :[/] {tr(f'error.{code}', **values)}")
    return typer.Exit(1)


def _user(session: Session, name: str) -> User:
    user = get_user(session=session, name=name)
    if user is None:
        raise _fail("unknown_user")
    return user


def _corpus(session: Session, name: str) -> Corpus:
    corpus = get_corpus(session=session, name=name)
    if corpus is None:
        raise _fail("unknown_corpus", corpus=name)
    return corpus


def users_token(
    name: str,
    days: Annotated[int, typer.Option(help="Jours de validité (0 : sans expiration).")] = 90,
    corpus: Annotated[
        list[str] | None, typer.Option(help="Limiter le jeton à ce recueil (répétable).")
    ] = None,
    label: Annotated[str, typer.Option(help="À quoi sert le jeton.")] = "cli",
) -> None:
    """Crée un jeton d'API pour un compte ; le jeton est la dernière ligne affichée."""
    with _session() as session:
        user = _user(session, name)
        for corpus_name in corpus or []:
            _corpus(session, corpus_name)
        token, row = accounts.issue_token_recorded(
            session=session,
            user=user,
            days=days or None,
            corpora=corpus or None,
            label=label,
            by=SHELL,
        )
        expires = row.expires_at.strftime("%Y-%m-%d") if row.expires_at else "∞"
    console.print(tr("cli.token_created", name=name, id=row.id, expires=expires))
    print(token)


def users_revoke_token(
    name: str,
    token_id: Annotated[int | None, typer.Option("--id", help="Numéro du jeton.")] = None,
    all_tokens: Annotated[bool, typer.Option("--all", help="Tous les jetons du compte.")] = False,
) -> None:
    """Révoque un jeton d'un compte (--id N) ou tous ses jetons (--all)."""
    if (token_id is None) == (not all_tokens):
        raise typer.BadParameter("--id N ou --all")
    with _session() as session:
        user = _user(session, name)
        ids = (
            [t.id for t in tokens_of(session=session, user=user) if t.revoked_at is None]
            if all_tokens
            else [token_id]
        )
        for one in ids:
            assert one is not None
            try:
                accounts.revoke_token_recorded(session=session, user=user, token_id=one, by=SHELL)
            except AccountError as error:
                raise _fail(error.code) from error
    out.print(tr("cli.tokens_revoked", count=len(ids)))


def users_tokens(name: str) -> None:
    """Liste les jetons d'un compte (jamais les jetons eux-mêmes)."""
    with _session() as session:
        for t in tokens_of(session=session, user=_user(session, name)):
            expires = t.expires_at.strftime("%Y-%m-%d") if t.expires_at else "-"
            scope = ",".join(t.corpora) if t.corpora is not None else "*"
            out.print(f"{t.id}\t{t.state}\t{expires}\t{scope}\t{t.label}")


def users_list() -> None:
    """Liste les comptes."""
    with _session() as session:
        for u in list_users(session=session):
            out.print(f"{u.id}\t{u.name}\t{u.role.value}\t{'actif' if u.active else 'désactivé'}")


def users_set_role(
    name: str, role: Annotated[Role, typer.Argument(help="admin, agent, teacher ou student.")]
) -> None:
    """Change le rôle d'un compte (ses jetons existants cessent de fonctionner)."""
    with _session() as session:
        previous = accounts.set_role_recorded(
            session=session, user=_user(session, name), role=role, by=SHELL
        )
    out.print(f"{name} : {previous.value} → {role.value}")


def _set_active(name: str, active: bool) -> None:
    with _session() as session:
        user = _user(session, name)
        accounts.set_active_recorded(session=session, user=user, active=active, by=SHELL)


def users_deactivate(name: str) -> None:
    """Désactive un compte : plus de connexion ni de jeton valable."""
    _set_active(name, False)


def users_activate(name: str) -> None:
    """Réactive un compte."""
    _set_active(name, True)


def users_password(
    name: str,
    password: Annotated[
        str,
        typer.Option(
            envvar="GUICHET_NEW_PASSWORD",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="Nouveau mot de passe.",
        ),
    ],
) -> None:
    """Fixe le mot de passe d'un compte (ses sessions ouvertes sont fermées)."""
    with _session() as session:
        user = _user(session, name)
        try:
            accounts.set_password_recorded(session=session, user=user, password=password, by=SHELL)
        except AccountError as error:
            raise _fail(error.code) from error


def corpus_add_owner(corpus: str, name: str) -> None:
    """Rend un agent (démarches) ou un enseignant (cours) responsable d'un recueil."""
    _add_member(corpus, name, "owner")


def corpus_add_student(corpus: str, name: str) -> None:
    """Inscrit un compte élève à un cours."""
    _add_member(corpus, name, "student")


def _add_member(corpus: str, name: str, membership: courses.Membership) -> None:
    with _session() as session:
        target, user = _corpus(session, corpus), _user(session, name)
        try:
            courses.add_member_recorded(
                session=session, corpus=target, user=user, membership=membership, by=SHELL
            )
        except AccountError as error:
            raise _fail(error.code) from error


def corpus_remove_member(corpus: str, name: str) -> None:
    """Retire une personne (responsable ou élève) d'un recueil."""
    with _session() as session:
        target, user = _corpus(session, corpus), _user(session, name)
        # Whatever the membership (owner or student), so none is logged.
        if not courses.remove_member_recorded(
            session=session, corpus=target, user_id=user.id, membership=None, by=SHELL
        ):
            raise _fail("unknown_member")


def register(*, users_app: typer.Typer, corpus_app: typer.Typer) -> None:
    """Add the account commands to the `users` and `corpus` command groups."""
    users_app.command("token")(users_token)
    users_app.command("revoke-token")(users_revoke_token)
    users_app.command("tokens")(users_tokens)
    users_app.command("list")(users_list)
    users_app.command("set-role")(users_set_role)
    users_app.command("deactivate")(users_deactivate)
    users_app.command("activate")(users_activate)
    users_app.command("password")(users_password)
    corpus_app.command("add-owner")(corpus_add_owner)
    corpus_app.command("add-student")(corpus_add_student)
    corpus_app.command("remove-member")(corpus_remove_member)
