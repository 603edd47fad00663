"""Routes every visitor and every probe has: health checks, the language switch, and the
accessibility statement."""

from __future__ import annotations

from dataclasses import asdict

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy import text

from server.deps import State, Tr
from server.engine.supervisor import read_status
from server.i18n import LANGUAGES
from server.schemas import EngineOut, HealthOut, ReadyOut
from server.settings import PROJECT_ROOT
from server.templating import render

router = APIRouter()


@router.get("/healthz", response_model=HealthOut, tags=["ops"])
async def healthz() -> HealthOut:
    """The process is alive."""
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    response_model=ReadyOut,
    tags=["ops"],
    responses={503: {"model": ReadyOut, "description": "A part is down"}},
)
async def readyz(state: State) -> JSONResponse:
    """Ready only when the engine, the vector store and the database answer."""

    def database() -> bool:
        try:
            with state.db.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means "down"
            return False

    checks = {
        "engine": await state.llm.healthy(),
        "vector_store": await to_thread.run_sync(state.index.ping),
        "database": await to_thread.run_sync(database),
    }
    down = [name for name, ok in checks.items() if not ok]
    supervised = read_status(
        state.settings.data_dir, base_url=state.settings.effective_llm_base_url
    )
    body = ReadyOut(
        status="unavailable" if down else "ready",
        checks=checks,
        down=down,
        engine=EngineOut.model_validate(asdict(supervised)) if supervised else None,
    )
    return JSONResponse(body.model_dump(), status_code=503 if down else 200)


@router.get("/lang/{language}", include_in_schema=False)
def switch_language(language: str, request: Request) -> RedirectResponse:
    """Remember the visitor's language and go back to the page they were on."""
    target = request.headers.get("referer") or "/"
    if not target.startswith(str(request.base_url)):
        target = "/"
    response = RedirectResponse(target, status_code=303)
    if language in LANGUAGES:
        response.set_cookie("guichet_lang", language, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/accessibilite", response_class=HTMLResponse, include_in_schema=False)
def accessibility_statement(request: Request, tr: Tr) -> HTMLResponse:
    """« Déclaration d'accessibilité » in the RGAA 4.1 form, linked from every footer."""
    return render(request, "accessibility.html", tr)


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> FileResponse:
    """The icon browsers ask for on every page (pages also link the SVG one)."""
    return FileResponse(
        PROJECT_ROOT / "web" / "static" / "favicon.ico",
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )
