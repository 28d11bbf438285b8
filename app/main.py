"""create_app(): builds one Folio application from its settings (each test builds its own)."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI
from starlette.routing import Mount

from app.api.application import PREFIX as API_PREFIX, build_api
from app.auth import load_request_context
from app.body_limit import BodyLimitMiddleware
from app.config import Settings, get_settings
from app.db import make_engine, make_health_engine, worker_threads
from app.errors import install_error_handlers
from app.health import healthz
from app.job_runner import JobRunner
from app.routes import ROUTERS, PublicStaticFiles
from app.services.operations.housekeeping import sweep_quietly
from app.security import CrossOriginProtectionMiddleware, SecurityHeadersMiddleware
from app.templating import STATIC_DIR, environment_for


def create_app(settings: Settings | None = None) -> FastAPI:
    """A Folio app with its own engine, templates and settings on app.state."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Files left half-received by a process that was killed mid-upload, and trash past its grace period.
        await anyio.to_thread.run_sync(lambda: sweep_quietly(settings=settings))
        # The threads that run sync routes, sized to the pool so none waits for a connection (app.db's docstring).
        anyio.to_thread.current_default_thread_limiter().total_tokens = worker_threads(settings)
        runner = None
        if settings.job_runner == "in-process":
            runner = JobRunner(engine=app.state.engine, settings=settings)
            runner.start()
        app.state.job_runner = runner
        yield
        if runner is not None:
            runner.stop()
        app.state.engine.dispose()
        app.state.health_engine.dispose()

    # No /docs or /openapi.json: Swagger UI would load scripts from a CDN, and this is an HTML app.
    app = FastAPI(
        title="Folio",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        dependencies=[Depends(load_request_context)],
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings)
    app.state.health_engine = make_health_engine(settings)
    app.state.templates = environment_for(settings)
    app.state.secret_key = settings.resolved_secret_key()

    app.add_middleware(CrossOriginProtectionMiddleware, trusted_origins=[settings.base_url])
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies)
    app.add_middleware(BodyLimitMiddleware, largest=settings.max_request_bytes)
    # The JSON API: its own app (OpenAPI document, problem+json errors, bearer tokens), sharing this one's state.
    api_mount = Mount(API_PREFIX, app=build_api(app.state))
    # Starlette's mount pattern (".*") stops at a newline: an address with "%0A" in it would fall through to the HTML
    # app's 404 page instead of the API's problem.
    api_mount.path_regex = re.compile(api_mount.path_regex.pattern, re.DOTALL)
    app.router.routes.append(api_mount)
    app.mount("/static", PublicStaticFiles(directory=STATIC_DIR), name="static")
    # A plain route, outside the routers' dependencies (no sign-in lookup, no session): see app.health.
    app.add_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    for router in ROUTERS:
        app.include_router(router)
    install_error_handlers(app)
    return app
