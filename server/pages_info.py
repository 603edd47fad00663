"""Information pages every visitor may read: the accessibility statement (RGAA)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from server.deps import Tr
from server.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/accessibilite", response_class=HTMLResponse)
def accessibility_statement(request: Request, tr: Tr) -> HTMLResponse:
    """« Déclaration d'accessibilité » in the RGAA 4.1 form, linked from every footer."""
    return render(request, "accessibility.html", tr)
