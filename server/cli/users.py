"""`guichet users ...` and `guichet corpus add-owner ...`: accounts and rights from the shell.

Every change goes through a ``*_recorded`` service as :data:`SHELL`, so it is written to
the audit log with ``via="cli"`` and no actor (the shell user is whoever may run the
command on the server).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from accounts import audit, contact, courses, tokens, users
from accounts.errors import AccountError
from accounts.models import Role, User
from accounts.tokens import tokens_of
from accounts.users import get_user, list_users
from corpora.models import Corpus
from corpora.repository import get_corpus
from database import transaction
from server.cli.common import console, corpus_app, database, fail, load_settings, out, tr, users_app

SHELL = audit.Actor(id=None, via="cli")


@contextmanager
def _session() -> Iterator[Session]:
    with database(load_settings()) as sessions, transaction(sessions) as session:
        yield session


def _refused(code: str, **values: object) -> typer.Exit:
    return fail(tr(f"error.{code}", **values))


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[Role, typer.Option(help="admin, agent, teacher ou student.")],
    corpus: Annotated[list[str] | None, typer.Option(help="Recueil rattaché (répétable).")] = None,
    print_token: Annotated[
        bool, typer.Option("--print-token", help="Affiche un jeton d'API en dernière ligne.")
    ] = False,
    password: Annotated[
        str | None,
        typer.Option(envvar="GUICHET_NEW_PASSWORD", help="Mot de passe (sinon : jeton seulement)."),
    ] = None,
    email: Annotated[
        str | None, typer.Option(help="Adresse électronique (notifications par courriel).")
    ] = None,
) -> None:
    """Crée un compte, rattaché à des recueils (propriétaire ou élève selon le rôle)."""
    settings = load_settings()
    with database(settings) as sessions, transaction(sessions) as session:
        try:
            user = users.create_user_recorded(
                session=session, name=name, role=role, password=password, email=email, by=SHELL
            )
            for corpus_name in corpus or []:
                target = get_corpus(session=session, name=corpus_name)
                if target is None:
                    raise fail(tr("error.unknown_corpus", corpus=corpus_name))
                courses.add_member_recorded(
                    session=session,
                    corpus=target,
                    user=user,
                    membership="student" if role == Role.student else "owner",
                    by=SHELL,
                )
        except AccountError as error:
            raise fail(tr(f"error.{error.code}")) from error
        token = None
        if print_token:
            token, _ = tokens.issue_token_recorded(
                session=session, user=user, days=365, corpora=None, label="cli", by=SHELL
            )
    console.print(tr("cli.user_created", name=name, role=role.value))
    if token:
        print(token)


def _user(session: Session, name: str) -> User:
    user = get_user(session=session, name=name)
    if user is None:
        raise _refused("unknown_user")
    return user


def _corpus(session: Session, name: str) -> Corpus:
    corpus = get_corpus(session=session, name=name)
    if corpus is None:
        raise _refused("unknown_corpus", corpus=name)
    return corpus


@users_app.command("token")
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
        token, row = tokens.issue_token_recorded(
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


@users_app.command("revoke-token")
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
                tokens.revoke_token_recorded(session=session, user=user, token_id=one, by=SHELL)
            except AccountError as error:
                raise _refused(error.code) from error
    out.print(tr("cli.tokens_revoked", count=len(ids)))


@users_app.command("tokens")
def users_tokens(name: str) -> None:
    """Liste les jetons d'un compte (jamais les jetons eux-mêmes)."""
    with _session() as session:
        for t in tokens_of(session=session, user=_user(session, name)):
            expires = t.expires_at.strftime("%Y-%m-%d") if t.expires_at else "-"
            scope = ",".join(t.corpora) if t.corpora is not None else "*"
            out.print(f"{t.id}\t{t.state}\t{expires}\t{scope}\t{t.label}")


@users_app.command("list")
def users_list() -> None:
    """Liste les comptes."""
    with _session() as session:
        for u in list_users(session=session):
            out.print(f"{u.id}\t{u.name}\t{u.role.value}\t{'actif' if u.active else 'désactivé'}")


@users_app.command("set-email")
def users_set_email(
    name: str, email: Annotated[str, typer.Argument(help='Adresse ; "" pour l\'effacer.')]
) -> None:
    """Fixe (ou efface) l'adresse électronique d'un compte."""
    with _session() as session:
        try:
            contact.set_email_recorded(
                session=session, user=_user(session, name), email=email, by=SHELL
            )
        except AccountError as error:
            raise _refused(error.code) from error


@users_app.command("set-role")
def users_set_role(
    name: str, role: Annotated[Role, typer.Argument(help="admin, agent, teacher ou student.")]
) -> None:
    """Change le rôle d'un compte (ses jetons existants cessent de fonctionner)."""
    with _session() as session:
        previous = users.set_role_recorded(
            session=session, user=_user(session, name), role=role, by=SHELL
        )
    out.print(f"{name} : {previous.value} → {role.value}")


def _set_active(name: str, active: bool) -> None:
    with _session() as session:
        user = _user(session, name)
        users.set_active_recorded(session=session, user=user, active=active, by=SHELL)


@users_app.command("deactivate")
def users_deactivate(name: str) -> None:
    """Désactive un compte : plus de connexion ni de jeton valable."""
    _set_active(name, False)


@users_app.command("activate")
def users_activate(name: str) -> None:
    """Réactive un compte."""
    _set_active(name, True)


@users_app.command("password")
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
            users.set_password_recorded(session=session, user=user, password=password, by=SHELL)
        except AccountError as error:
            raise _refused(error.code) from error


@corpus_app.command("add-owner")
def corpus_add_owner(corpus: str, name: str) -> None:
    """Rend un agent (démarches) ou un enseignant (cours) responsable d'un recueil."""
    _add_member(corpus, name, "owner")


@corpus_app.command("add-student")
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
            raise _refused(error.code) from error


@corpus_app.command("remove-member")
def corpus_remove_member(corpus: str, name: str) -> None:
    """Retire une personne (responsable ou élève) d'un recueil."""
    with _session() as session:
        target, user = _corpus(session, corpus), _user(session, name)
        # Whatever the membership (owner or student), so none is logged.
        if not courses.remove_member_recorded(
            session=session, corpus=target, user_id=user.id, membership=None, by=SHELL
        ):
            raise _refused("unknown_member")
