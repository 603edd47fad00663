"""Request and response bodies of the documents API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

Status = Literal["queued", "processing", "indexed", "failed"]


class UploadError(BaseModel):
    code: str
    message: str


class UploadResult(BaseModel):
    filename: str
    document_id: int | None
    status: Status | None
    version: int | None = None
    unchanged: bool = False
    error: UploadError | None = None


class UploadOut(BaseModel):
    """Per-file results; ``document_id``/``status`` repeat the first accepted file's."""

    document_id: int | None
    status: Status | None
    documents: list[UploadResult]


class VersionOut(BaseModel):
    version: int
    status: Status
    error: str | None
    error_code: str | None
    chunks: int
    size_bytes: int
    created_at: datetime
    indexed_at: datetime | None


class DocumentOut(BaseModel):
    id: int
    corpus: str
    filename: str
    title: str
    status: Status
    error: str | None
    error_code: str | None
    version: int
    indexed_version: int | None
    chunks: int
    progress_done: int
    progress_total: int
    updated_at: datetime
    versions: list[VersionOut]


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]
