"""The sources API: list, add, read, remove a corpus's sources, and ask for a run."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from corpora.sources.repository import sources_of
from server.deps import CurrentUser, DbSession, State, Tr
from server.documents.service import managed_corpus
from server.schemas import RowId, error_responses
from server.security.sessions import actor
from server.sources import service
from server.sources.schemas import SourceIn, SourceOut, SourcesOut, SyncIn

router = APIRouter(prefix="/api/v1", tags=["sources"])
ERRORS = error_responses(
    {
        401: "Not signed in",
        403: "Not an owner of this corpus",
        404: "Unknown corpus or source",
        422: "Invalid request",
    }
)


@router.get("/corpora/{name}/sources", response_model=SourcesOut, responses=ERRORS)
def sources(name: str, session: DbSession, user: CurrentUser, tr: Tr) -> SourcesOut:
    """The corpus's sources, each with its last run (counts, failures with reasons) and the
    next one."""
    corpus = managed_corpus(session, user, name)
    return SourcesOut(
        sources=[
            service.source_out(session, s, tr) for s in sources_of(session=session, corpus=corpus)
        ]
    )


@router.post(
    "/corpora/{name}/sources",
    status_code=201,
    response_model=SourceOut,
    responses={**ERRORS, **error_responses({400: "Invalid source (see the error code)"})},
)
def add(
    name: str,
    body: SourceIn,
    request: Request,
    state: State,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
) -> SourceOut:
    """Add a website, a folder (under GUICHET_SYNC_FOLDER_ROOTS) or a WebDAV share; its
    first run starts at once in the background."""
    corpus = managed_corpus(session, user, name)
    assert user is not None  # managed_corpus refuses nobody
    source = service.add(
        session=session,
        corpus=corpus,
        data=body,
        by=actor(request, user),
        settings=state.settings,
        secrets=state.secrets,
    )
    session.commit()
    state.sync_worker.wake()
    return service.source_out(session, source, tr)


@router.get("/sources/{source_id}", response_model=SourceOut, responses=ERRORS)
def source(source_id: RowId, session: DbSession, user: CurrentUser, tr: Tr) -> SourceOut:
    """One source and its last run."""
    return service.source_out(session, service.managed_source(session, user, source_id), tr)


@router.delete("/sources/{source_id}", status_code=204, responses=ERRORS)
def remove(source_id: RowId, request: Request, session: DbSession, user: CurrentUser) -> Response:
    """Forget a source; the documents it brought in stay in the corpus."""
    found = service.managed_source(session, user, source_id)
    assert user is not None
    service.remove(session=session, source=found, by=actor(request, user))
    return Response(status_code=204)


@router.post(
    "/sources/{source_id}/sync", status_code=202, response_model=SourceOut, responses=ERRORS
)
def sync(
    source_id: RowId,
    request: Request,
    state: State,
    session: DbSession,
    user: CurrentUser,
    tr: Tr,
    body: SyncIn | None = None,
) -> SourceOut:
    """Run the source as soon as a worker is free (`run_requested` until it starts);
    `confirm_removals` lets it remove what a held run found gone."""
    found = service.managed_source(session, user, source_id)
    assert user is not None
    confirm = body.confirm_removals if body is not None else False
    service.ask_for_run(
        session=session, source=found, by=actor(request, user), confirm_removals=confirm
    )
    session.commit()
    state.sync_worker.wake()
    return service.source_out(session, found, tr)
