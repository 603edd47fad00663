"""The FastAPI app factory: heavy objects are built once, in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from server import site
from server.accounts import api as accounts_api
from server.accounts import pages as accounts_pages
from server.admin import api as admin_api
from server.admin import pages as admin_pages
from server.answers import ahead, names
from server.answers import api as answers_api
from server.answers import pages as answers_pages
from server.courses import api as courses_api
from server.courses import pages as courses_pages
from server.documents import api as documents_api
from server.documents import pages as documents_pages
from server.engine.supervisor import EngineSupervisor
from server.errors import install_error_handlers
from server.housekeeping import chores as housekeeping
from server.housekeeping import tidy
from server.opendata import api as opendata_api
from server.reviews import api as reviews_api
from server.reviews import pages as reviews_pages
from server.security.install import install_security
from server.settings import PROJECT_ROOT, Settings
from server.sources import api as sources_api
from server.sources import pages as sources_pages
from server.state import build_state
from server.templating import make_templates
from server.transparency import pages as transparency_pages

log = logging.getLogger(__name__)
WEB = PROJECT_ROOT / "web"
VENDOR = PROJECT_ROOT / "node_modules" / "htmx.org" / "dist"
ROUTERS = (
    site,
    answers_api,
    answers_pages,
    documents_api,
    documents_pages,
    sources_api,
    sources_pages,
    reviews_api,
    reviews_pages,
    accounts_api,
    accounts_pages,
    courses_api,
    courses_pages,
    admin_api,
    admin_pages,
    opendata_api,
    transparency_pages,
)


def create_app(
    settings: Settings | None = None,
    *,
    llm_http: httpx.AsyncClient | None = None,
    engine: EngineSupervisor | None = None,
) -> FastAPI:
    """The app; ``llm_http`` lets tests put a fake transport under the engine client;
    ``engine``, the embedded engine that ``guichet serve`` started, is stopped at shutdown."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await to_thread.run_sync(build_state, settings, llm_http)
        app.state.guichet = state
        state.worker.start()
        if state.notifier is not None:
            state.notifier.start()
        state.sync_worker.start()
        await to_thread.run_sync(tidy, state)
        chores = asyncio.create_task(housekeeping(state), name="guichet-housekeeping")
        warming = asyncio.create_task(
            to_thread.run_sync(state.answers.warm_up), name="guichet-warm-up"
        )
        # The model that finds names in questions loads in seconds: not on the first asker.
        naming = asyncio.create_task(to_thread.run_sync(names.warm_up), name="guichet-names")
        log.info(
            "Guichet ready: engine %s, model %s, e-mail %s",
            settings.effective_llm_base_url,
            settings.llm_model,
            f"through {settings.smtp_host}" if settings.email_enabled else "off",
        )
        try:
            yield
        finally:
            chores.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await chores
            await warming  # a thread cannot be cancelled; it is short
            ahead.stop()
            await naming
            await to_thread.run_sync(state.sync_worker.stop)
            await to_thread.run_sync(state.worker.stop)
            if state.notifier is not None:
                await to_thread.run_sync(state.notifier.stop)
            await state.llm.aclose()
            state.db.dispose()
            if engine is not None:
                await to_thread.run_sync(engine.stop)

    app = FastAPI(
        title="Guichet",
        version="0.1.0",
        description="Assistant de service public avec relecture humaine.",
        lifespan=lifespan,
    )
    app.state.templates = make_templates(WEB / "templates")
    # Whether pages offer e-mail (a citizen's reply address, notification settings).
    app.state.templates.env.globals["email_enabled"] = settings.email_enabled
    app.state.templates.env.globals["notify_default"] = settings.notify_default
    # What the « ask a person » flow tells the asker: the service's contact, and after how
    # long a waiting question is brought back to its reviewers.
    app.state.templates.env.globals["service_contact"] = settings.contact
    app.state.templates.env.globals["review_reminder_minutes"] = settings.review_overdue_minutes
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    # htmx comes from the npm registry (package.json), installed by `make install`.
    app.mount("/vendor", StaticFiles(directory=str(VENDOR), check_dir=False), name="vendor")
    install_error_handlers(app)
    for module in ROUTERS:
        app.include_router(module.router)
    # Session cookie, CSRF, security headers, rate limits, OpenAPI error responses.
    install_security(app, settings)
    return app
