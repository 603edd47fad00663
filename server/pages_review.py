"""Routes: see the module name. Filled in by the issue that owns it."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
