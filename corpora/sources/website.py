"""A website as a source: a sitemap or a start URL, the same site only, robots.txt obeyed.

Each page is fetched politely (one request at a time, ``delay_s`` apart, or the site's
``Crawl-delay`` if longer) with its HTTP validators, so that an unchanged page costs a
``304 Not Modified``; its main content is extracted by trafilatura (menus, footers and
banners left out) and handed over as a small HTML document whose title is the page's,
with the page URL as the citation link.

A page no longer found is gone only when the site says so (404, 410) or when a complete
crawl (no failure, no limit reached) no longer reaches it: a page that merely could not be
read this time keeps its document.
"""

from __future__ import annotations

import copy
import html
import logging
import time
from collections import deque
from collections.abc import Iterator, Mapping
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx
import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.metadata import extract_metadata

from corpora.sources.fetching import (
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

log = logging.getLogger(__name__)

_HTML_TYPES = ("text/html", "application/xhtml+xml")
# Linked documents Guichet can read, by media type, with the extension their file gets.
_DOCUMENT_TYPES = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "text/plain": ".txt",
    "text/markdown": ".md",
}
# Links not worth a request: pictures, styles, scripts, media, archives.
_SKIPPED_SUFFIXES = (
    ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".css", ".js", ".woff",
    ".woff2", ".ttf", ".mp3", ".mp4", ".webm", ".avi", ".zip", ".gz", ".rar", ".7z",
    ".xls", ".xlsx", ".ppt", ".pptx", ".ods", ".odp", ".exe", ".dmg", ".iso",
)  # fmt: skip
_SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
_MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_SITEMAPS = 50


def normalise(url: str) -> str:
    """The URL without its fragment, with a path (``http://a.fr`` → ``http://a.fr/``)."""
    url = urldefrag(url.strip())[0]
    parts = urlsplit(url)
    if not parts.path:
        url = parts._replace(path="/").geturl()
    return url


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, f"{(parts.hostname or '').lower()}:{port}"


def is_sitemap(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(".xml")


class WebsiteReader:
    """Reads the pages of one site; see the module docstring."""

    total: int | None = None

    def __init__(
        self, location: str, limits: Limits, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.location = normalise(location)
        self.limits = limits
        self.sitemap = is_sitemap(self.location)
        path = urlsplit(self.location).path
        # A start page's folder bounds the crawl (``/demarches/`` stays there); a sitemap
        # lists whatever of its site it wants.
        self.prefix = "/" if self.sitemap else path[: path.rfind("/") + 1] or "/"
        self.origin = _origin(self.location)
        self.client = httpx.Client(
            timeout=limits.timeout_s,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            transport=transport,
        )
        self.robots = RobotFileParser()
        self.delay_s = limits.delay_s
        self._last_request = 0.0

    def close(self) -> None:
        self.client.close()

    # -- the walk --------------------------------------------------------------------------

    def walk(self, known: Mapping[str, Known]) -> Iterator[Outcome]:
        check_address(self.location, private_networks=self.limits.private_networks)
        self._read_robots()
        if self.sitemap:
            seeds = self._sitemap_urls(self.location)
            self.total = len(seeds)
        else:
            seeds = [self.location]
        queue = deque((url, 0) for url in seeds)
        visited: set[str] = set(seeds)
        complete, pages = True, 0
        while queue:
            url, depth = queue.popleft()
            if not self.robots.can_fetch(USER_AGENT, url):
                if url in known:
                    yield Gone(url)
                continue
            if pages >= self.limits.max_pages:
                complete = False
                break
            outcome = self._page(url, known.get(url), first=pages == 0 and not self.sitemap)
            pages += 1
            if isinstance(outcome, Failed):
                complete = False
            yield outcome
            if self.sitemap or depth >= self.limits.max_depth:
                continue
            for link in getattr(outcome, "links", ()):
                if link not in visited:
                    visited.add(link)
                    queue.append((link, depth + 1))
        for url in known:
            if url in visited:
                continue
            if complete or not self.in_scope(url):
                yield Gone(url)
            else:
                # Not reached this time, but the crawl was cut short: ask the page itself.
                yield self._page(url, known[url], first=False)

    def in_scope(self, url: str) -> bool:
        parts = urlsplit(url)
        return (
            parts.scheme in ("http", "https")
            and _origin(url) == self.origin
            and parts.path.startswith(self.prefix)
        )

    # -- requests --------------------------------------------------------------------------

    def _pause(self) -> None:
        wait = self._last_request + self.delay_s - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_request = time.monotonic()

    def _read_robots(self) -> None:
        scheme, _ = self.origin
        parts = urlsplit(self.location)
        url = f"{scheme}://{parts.netloc}/robots.txt"
        try:
            self._pause()
            response = self.client.get(url)
        except httpx.HTTPError as error:
            raise SourceFailure("unreachable", f"{parts.netloc}: {type(error).__name__}") from error
        if response.status_code >= 500:
            # RFC 9309: a server error on robots.txt means "assume everything disallowed".
            raise SourceFailure("robots_unavailable", str(response.status_code))
        if response.status_code >= 400:
            self.robots.parse([])
        else:
            self.robots.parse(response.text.splitlines())
        crawl_delay = self.robots.crawl_delay(USER_AGENT)
        if crawl_delay is not None:
            self.delay_s = max(self.delay_s, float(crawl_delay))

    def _get(self, url: str, known: Known | None) -> tuple[httpx.Response, bytes | None, str]:
        """Follow same-site redirects; the response, its body (None: not modified), the
        final URL. Raises :class:`ItemFailure`, or returns a 404/410 response as is."""
        headers = {}
        if known is not None and known.etag:
            headers["If-None-Match"] = known.etag
        if known is not None and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        for _ in range(_MAX_REDIRECTS + 1):
            self._pause()
            try:
                with self.client.stream("GET", url, headers=headers) as response:
                    if response.status_code == 304:
                        return response, None, url
                    if response.status_code in _REDIRECTS and "location" in response.headers:
                        target = normalise(urljoin(url, response.headers.get("location", "")))
                        if _origin(target) != self.origin:
                            raise ItemFailure("offsite_redirect", target)
                        if not self.robots.can_fetch(USER_AGENT, target):
                            raise ItemFailure("robots_disallowed", target)
                        url = target
                        continue
                    if response.status_code in (404, 410):
                        return response, b"", url
                    _check_status(response.status_code)
                    return response, self._read_body(response), url
            except httpx.HTTPError as error:
                raise ItemFailure("unreachable", type(error).__name__) from error
        raise ItemFailure("too_many_redirects", url)

    def _read_body(self, response: httpx.Response) -> bytes:
        limit = self.limits.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ItemFailure("too_large", declared)
        parts, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise ItemFailure("too_large", f"> {limit}")
            parts.append(chunk)
        return b"".join(parts)

    def _page(self, url: str, known: Known | None, *, first: bool) -> Outcome:
        """One page's outcome. A failure of the start page fails the whole run."""
        try:
            response, body, final = self._get(url, known)
            if body is None:
                if known is None:
                    raise ItemFailure("http_error", "304")
                return Unchanged(url, known.etag, known.last_modified, known.links)
            if response.status_code in (404, 410):
                if known is not None and not first:
                    return Gone(url)
                raise ItemFailure("not_found", str(response.status_code))
            return self._content(url, final, response, body, known)
        except ItemFailure as error:
            if first:
                raise SourceFailure(error.code, error.detail) from error
            return Failed(url, error.code, error.detail)

    def _content(
        self, url: str, final: str, response: httpx.Response, body: bytes, known: Known | None
    ) -> Outcome:
        etag = response.headers.get("etag")
        last_modified = response.headers.get("last-modified")
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        digest = sha256(body)
        if media in _HTML_TYPES or (not media and body.lstrip()[:1] == b"<"):
            tree = trafilatura.load_html(body)
            if tree is None:
                raise ItemFailure("no_content")
            if tree.xpath("//input[translate(@type, 'PASSWORD', 'password')='password']"):
                raise ItemFailure("login_page", final)
            robots_meta = " ".join(tree.xpath("//meta[@name='robots']/@content")).lower()
            links = () if "nofollow" in robots_meta else self._links(tree, final)
            if "noindex" in robots_meta:
                raise ItemFailure("noindex")
            if known is not None and known.sha256 == digest:
                return Unchanged(url, etag, last_modified, links)
            data = _main_content(tree, final)
            name = filename_for(urlsplit(url).path, suffix=".html")
            return Fetched(url, name, data, digest, url, etag, last_modified, links)
        suffix = _DOCUMENT_TYPES.get(media)
        if suffix is None:
            raise ItemFailure("unsupported_type", media or "?")
        if known is not None and known.sha256 == digest:
            return Unchanged(url, etag, last_modified)
        path = urlsplit(url).path
        name = filename_for(path, suffix=None if path.lower().endswith(suffix) else suffix)
        return Fetched(url, name, body, digest, url, etag, last_modified)

    def _links(self, tree: HtmlElement, base: str) -> tuple[str, ...]:
        """Same-site links worth following, in page order (``rel=nofollow`` left out)."""
        found: list[str] = []
        for href in tree.xpath("//a[@href and not(contains(@rel, 'nofollow'))]/@href"):
            link = normalise(urljoin(base, str(href)))
            if not self.in_scope(link):
                continue
            if urlsplit(link).path.lower().endswith(_SKIPPED_SUFFIXES):
                continue
            if link not in found:
                found.append(link)
        return tuple(found)

    # -- sitemaps --------------------------------------------------------------------------

    def _sitemap_urls(self, url: str) -> list[str]:
        """The page URLs of a sitemap (and of the sitemaps a sitemap index names)."""
        pages: list[str] = []
        todo, seen = [url], set[str]()
        while todo and len(seen) < _MAX_SITEMAPS:
            current = todo.pop(0)
            seen.add(current)
            try:
                response, body, _ = self._get(current, None)
            except ItemFailure as error:
                raise SourceFailure(error.code, error.detail) from error
            if response.status_code in (404, 410) or not body:
                raise SourceFailure("not_found", current)
            root = _parse_xml(body)
            for loc in root.iter(f"{_SITEMAP_NS}loc"):
                target = normalise(loc.text or "")
                if _origin(target) != self.origin:
                    continue
                parent = loc.getparent()
                if parent is not None and parent.tag == f"{_SITEMAP_NS}sitemap":
                    if target not in seen:
                        todo.append(target)
                elif target not in pages and self.in_scope(target):
                    pages.append(target)
        return pages


def _check_status(status: int) -> None:
    if status == 401:
        raise ItemFailure("login_required", "401")
    if status == 403:
        raise ItemFailure("forbidden", "403")
    if status >= 500:
        raise ItemFailure("server_error", str(status))
    if status >= 400 or status < 200:
        raise ItemFailure("http_error", str(status))


def _parse_xml(body: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as error:
        raise SourceFailure("invalid_sitemap", str(error)[:200]) from error


def _main_content(tree: HtmlElement, url: str) -> bytes:
    """The page's main content as a small HTML document titled like the page."""
    metadata = extract_metadata(tree)
    title = (metadata.title if metadata is not None else None) or ""
    if not title:
        title = " ".join(tree.xpath("//title//text()")).strip()
    body = trafilatura.extract(
        copy.deepcopy(tree),
        url=url,
        output_format="html",
        include_tables=True,
        include_formatting=True,
        favor_recall=True,
    )
    if not body:
        raise ItemFailure("no_content")
    inner = body.split("<body>", 1)[-1].rsplit("</body>", 1)[0]
    document = (
        f'<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title or url)}</title></head>\n<body>{inner}</body></html>\n"
    )
    return document.encode("utf-8")
