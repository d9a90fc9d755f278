"""Fixtures: a seeded SQLite store, the admin app over it, signed-in and bearer clients."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from tests.admin.seed import NOW, seed
from zoom_brevo.admin import AdminConfig, admin_routes
from zoom_brevo.store.engine import create_engine, migrate

TOKEN = "admin-token-for-tests-0123456789"
BASE = "http://127.0.0.1"


class Clock:
    """A settable clock (seconds since the epoch)."""

    def __init__(self, now_s: float) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture(scope="session")
def migrated_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty store at the current migration, made once and copied by each test."""
    path = tmp_path_factory.mktemp("template") / "store.db"
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture
def engine(tmp_path: Path, migrated_file: Path) -> Iterator[Engine]:
    path = tmp_path / "store.db"
    shutil.copyfile(migrated_file, path)
    engine = create_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def refs(engine: Engine) -> dict[str, str]:
    return seed(engine)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW.timestamp())


def build_app(engine: Engine, clock: Clock, **options: object) -> Starlette:
    config = AdminConfig(token=TOKEN, clock=clock, **options)  # type: ignore[arg-type]
    return Starlette(routes=admin_routes(config, engine))


@pytest.fixture
def app(engine: Engine, refs: dict[str, str], clock: Clock) -> Starlette:
    return build_app(engine, clock, limits={"brevo": {"plan": "general", "families": {}},
                                            "zoom": {"plan": "pro", "buckets": {}}})  # fmt: skip


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no credentials."""
    transport = httpx.ASGITransport(app=app, client=("10.0.0.1", 1234))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c


@pytest.fixture
async def api(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client sending the bearer token."""
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=headers) as c:
        yield c


def form_csrf(html: str) -> str:
    """The CSRF token of the first form on the page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, token: str = TOKEN) -> httpx.Response:
    """Fetch the login form, then post the token with its CSRF token."""
    page = await client.get("/admin/login")
    return await client.post(
        "/admin/login", data={"csrf_token": form_csrf(page.text), "token": token}
    )
