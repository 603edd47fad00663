"""A WebDAV share (Nextcloud, ownCloud, any WebDAV server) as a source.

The share is listed folder by folder with ``PROPFIND`` (``Depth: 1``, which every server
allows, unlike ``infinity``); a file whose ETag is the one of the last run is unchanged
without being downloaded. Credentials go as HTTP Basic authentication (Nextcloud: an app
password), and are kept encrypted in the database (corpora/sources/secrets.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

import httpx
from lxml import etree

from corpora.sources.fetching import (
    READABLE_SUFFIXES,
    USER_AGENT,
    Failed,
    Fetched,
    Gone,
    ItemFailure,
    Known,
    Limits,
    Outcome,
    SourceFailure,
    Unchanged,
    check_address,
    filename_for,
    sha256,
)

_PROPFIND = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getetag/>'
    b"<d:getlastmodified/><d:getcontentlength/></d:prop></d:propfind>"
)
_DAV = "{DAV:}"
_MAX_FOLDERS = 2000


@dataclass(frozen=True)
class Entry:
    url: str
    etag: str | None
    last_modified: str | None
    size: int | None


class WebDavReader:
    """Reads the files of one WebDAV folder and its sub-folders."""

    total: int | None = None

    def __init__(
        self,
        location: str,
        limits: Limits,
        *,
        username: str | None = None,
        password: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base = location if location.endswith("/") else location + "/"
        self.base_path = unquote(urlsplit(self.base).path)
        self.limits = limits
        self.client = httpx.Client(
            auth=httpx.BasicAuth(username, password or "") if username else None,
            timeout=limits.timeout_s,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def walk(self, known: Mapping[str, Known]) -> Iterator[Outcome]:
        check_address(self.base, private_networks=self.limits.private_networks)
        entries = self.listing()
        self.total = len(entries) + len(set(known) - set(entries))
        for key, entry in entries.items():
            yield self._read(key, entry, known.get(key))
        for key in known:
            if key not in entries:
                yield Gone(key)

    # -- listing ---------------------------------------------------------------------------

    def listing(self) -> dict[str, Entry]:
        """Relative path → file, over the whole tree; a folder that cannot be listed fails
        the run (a partial listing must not look like removed files)."""
        files: dict[str, Entry] = {}
        folders, seen = [self.base], {self.base}
        while folders:
            if len(seen) > _MAX_FOLDERS:
                raise SourceFailure("too_many_folders", str(_MAX_FOLDERS))
            folder = folders.pop(0)
            for url, is_folder, entry in self._propfind(folder):
                relative = unquote(urlsplit(url).path)[len(self.base_path) :].strip("/")
                name = relative.rsplit("/", 1)[-1]
                if not relative or name.startswith("."):
                    continue
                if is_folder:
                    if url not in seen:
                        seen.add(url)
                        folders.append(url)
                elif name.lower().endswith(READABLE_SUFFIXES):
                    files[relative] = entry
        return dict(sorted(files.items()))

    def _propfind(self, folder: str) -> Iterator[tuple[str, bool, Entry]]:
        try:
            response = self.client.request(
                "PROPFIND",
                folder,
                headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
                content=_PROPFIND,
            )
        except httpx.HTTPError as error:
            raise SourceFailure("unreachable", type(error).__name__) from error
        if response.status_code == 401:
            raise SourceFailure("auth_failed", "401")
        if response.status_code == 403:
            raise SourceFailure("forbidden", "403")
        if response.status_code == 404:
            raise SourceFailure("not_found", unquote(urlsplit(folder).path))
        if response.status_code >= 500:
            raise SourceFailure("server_error", str(response.status_code))
        if response.status_code != 207:
            raise SourceFailure("not_webdav", str(response.status_code))
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        try:
            root = etree.fromstring(response.content, parser=parser)
        except etree.XMLSyntaxError as error:
            raise SourceFailure("not_webdav", str(error)[:200]) from error
        for node in root.iter(f"{_DAV}response"):
            href = node.findtext(f"{_DAV}href") or ""
            url = urljoin(folder, href.strip())
            if not url.startswith(self.base) or url.rstrip("/") == folder.rstrip("/"):
                continue
            props = _ok_props(node)
            if props is None:
                continue
            is_folder = props.find(f"{_DAV}resourcetype/{_DAV}collection") is not None
            size = props.findtext(f"{_DAV}getcontentlength")
            entry = Entry(
                url=url if not is_folder or url.endswith("/") else url + "/",
                etag=props.findtext(f"{_DAV}getetag"),
                last_modified=props.findtext(f"{_DAV}getlastmodified"),
                size=int(size) if size and size.strip().isdigit() else None,
            )
            yield entry.url, is_folder, entry

    # -- files -----------------------------------------------------------------------------

    def _read(self, key: str, entry: Entry, known: Known | None) -> Outcome:
        if known is not None and entry.etag and known.etag == entry.etag:
            return Unchanged(key, entry.etag, entry.last_modified)
        if entry.size is not None and entry.size > self.limits.max_bytes:
            return Failed(key, "too_large", str(entry.size))
        try:
            data = self._download(entry.url)
        except ItemFailure as error:
            return Failed(key, error.code, error.detail)
        digest = sha256(data)
        if known is not None and known.sha256 == digest:
            return Unchanged(key, entry.etag, entry.last_modified)
        return Fetched(key, filename_for(key), data, digest, None, entry.etag, entry.last_modified)

    def _download(self, url: str) -> bytes:
        try:
            with self.client.stream("GET", url) as response:
                if response.status_code == 401:
                    raise ItemFailure("auth_failed", "401")
                if response.status_code == 404:
                    raise ItemFailure("not_found", "404")
                if response.status_code >= 500:
                    raise ItemFailure("server_error", str(response.status_code))
                if response.status_code != 200:
                    raise ItemFailure("http_error", str(response.status_code))
                parts, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.limits.max_bytes:
                        raise ItemFailure("too_large", f"> {self.limits.max_bytes}")
                    parts.append(chunk)
                return b"".join(parts)
        except httpx.HTTPError as error:
            raise ItemFailure("unreachable", type(error).__name__) from error


def _ok_props(node: etree._Element) -> etree._Element | None:
    """The properties a server returned with status 200 for one resource."""
    for propstat in node.iter(f"{_DAV}propstat"):
        status = propstat.findtext(f"{_DAV}status") or ""
        if " 200 " in f"{status} ":
            return propstat.find(f"{_DAV}prop")
    return None
