"""Request and response bodies of the sources API; ``guichet sync --json`` prints
:class:`RunOut` too, so the page, the API and the CLI use the same keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Kind = Literal["website", "folder", "webdav"]


class SourceIn(BaseModel):
    kind: Kind = Field(description="`website`, `folder` (on the server) or `webdav`.")
    location: str = Field(
        min_length=1,
        max_length=1000,
        description="Start page or sitemap (.xml) URL, absolute folder path, or WebDAV URL.",
    )
    every: str | None = Field(
        default=None,
        max_length=20,
        description="How often: `30m`, `6h`, `1d`. Default: GUICHET_SYNC_EVERY.",
    )
    max_pages: int | None = Field(default=None, ge=1, le=100_000, description="Website only.")
    max_depth: int | None = Field(default=None, ge=0, le=50, description="Website only.")
    delay_s: float | None = Field(
        default=None, ge=0, le=60, description="Seconds between two requests."
    )
    username: str | None = Field(default=None, max_length=200, description="WebDAV only.")
    password: str | None = Field(
        default=None, max_length=500, description="WebDAV only; stored encrypted."
    )


class SyncIn(BaseModel):
    confirm_removals: bool = Field(
        default=False,
        description="Let the run remove what a held run found gone, beyond the threshold.",
    )


class FailureOut(BaseModel):
    item: str = Field(description="The page URL or the file path.")
    code: str
    message: str


class RunOut(BaseModel):
    """One run: when, how long, what changed, what failed and why, and the next run."""

    run_id: int
    source_id: int
    corpus: str
    kind: Kind
    location: str
    trigger: Literal["schedule", "request", "cli"]
    status: Literal["running", "done", "held", "failed"]
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    added: int
    updated: int
    unchanged: int
    removed: int
    failed: int
    failures: list[FailureOut]
    held_removals: list[str] = Field(description="What a held run would remove.")
    error: FailureOut | None = Field(description="Why the whole run failed.")
    next_run_at: datetime | None


class SourceOut(BaseModel):
    id: int
    corpus: str
    kind: Kind
    location: str
    every_s: int
    every: str = Field(description="The interval for people: « 6 h », « 1 j ».")
    options: dict[str, float]
    username: str | None
    has_password: bool
    documents: int = Field(description="Documents this source brought in.")
    running: bool
    run_requested: bool
    next_run_at: datetime
    last_run: RunOut | None


class SourcesOut(BaseModel):
    sources: list[SourceOut]
