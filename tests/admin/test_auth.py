"""Who gets in: bearer token, login session cookie, CSRF, rate-limited failures, disabled admin."""

from __future__ import annotations

import hmac
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from tests.admin.conftest import BASE, TOKEN, Clock, build_app, form_csrf, sign_in
from zoom_brevo.admin import admin_routes_for
from zoom_brevo.admin.auth import LoginLimiter, Sessions, bearer_token
from zoom_brevo.config import load_settings
from zoom_brevo.sandbox.combined import sandbox_config
from zoom_brevo.store import outbox
from zoom_brevo.store.engine import reading


def cookie_header(response: httpx.Response, name: str) -> str:
    found = [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
    assert found, f"no {name} cookie set"
    return found[0]


def client_for(app: Starlette, base: str = BASE, ip: str = "10.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 1234))
    return httpx.AsyncClient(transport=transport, base_url=base)


# -- bearer --------------------------------------------------------------------------------


async def test_api_without_a_token_is_refused_with_a_bearer_challenge(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/admin/api/meetings")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "error" in response.json()


@pytest.mark.parametrize("header", ["Bearer wrong", f"Basic {TOKEN}", "Bearer", f"bearer {TOKEN}x"])
async def test_a_wrong_or_malformed_authorization_header_is_refused(
    client: httpx.AsyncClient, header: str
) -> None:
    response = await client.get("/admin/api/meetings", headers={"Authorization": header})
    assert response.status_code == 401


async def test_the_right_bearer_token_opens_api_and_pages(client: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert (await client.get("/admin/api/meetings", headers=headers)).status_code == 200
    assert (await client.get("/admin/meetings", headers=headers)).status_code == 200


async def test_tokens_are_compared_in_constant_time(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    await client.get("/admin/api/meetings", headers={"Authorization": "Bearer guess"})
    assert (b"guess", TOKEN.encode()) in seen


def test_bearer_token_parses_only_the_bearer_scheme() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("  bearer   abc ") == "abc"
    assert bearer_token("Basic abc") is None
    assert bearer_token("Bearer ") is None
    assert bearer_token(None) is None


# -- login and session cookie ----------------------------------------------------------------


async def test_pages_without_credentials_answer_401_with_the_login_form(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/admin/operations")
    assert response.status_code == 401
    assert 'name="token"' in response.text
    assert 'value="/admin/operations"' in response.text  # back there after signing in


async def test_login_sets_an_httponly_samesite_strict_session_cookie(
    client: httpx.AsyncClient,
) -> None:
    response = await sign_in(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/meetings"
    cookie = cookie_header(response, "zb_admin_session").lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/;" in cookie  # the whole site: /oauth/authorize takes the session too
    assert "max-age=28800" in cookie
    assert "secure" not in cookie  # plain http to 127.0.0.1: the documented exception
    assert (await client.get("/admin/operations")).status_code == 200


@pytest.mark.parametrize(
    ("base", "option", "secure"),
    [
        ("http://127.0.0.1", None, False),
        ("http://localhost", None, False),
        ("https://admin.example.com", None, True),
        ("http://admin.example.com", None, True),
        ("http://127.0.0.1", True, True),
        ("https://admin.example.com", False, False),
    ],
)
async def test_the_session_cookie_is_secure_except_on_plain_loopback_http(  # noqa: PLR0917 (one table row)
    engine: Engine, refs: dict[str, str], clock: Clock, base: str, option: bool | None,
    secure: bool,
) -> None:  # fmt: skip
    app = build_app(engine, clock, secure_cookie=option)
    async with client_for(app, base) as c:
        page = await c.get("/admin/login")
        csrf = form_csrf(page.text)
        c.cookies.clear()  # a Secure cookie would not come back over http: send it by hand
        response = await c.post(
            "/admin/login",
            data={"csrf_token": csrf, "token": TOKEN},
            headers={"Cookie": f"zb_admin_login_csrf={csrf}"},
        )
    assert response.status_code == 303
    assert ("; secure" in cookie_header(response, "zb_admin_session").lower()) is secure


async def test_a_wrong_login_token_is_refused_and_sets_no_session(
    client: httpx.AsyncClient,
) -> None:
    response = await sign_in(client, "not-the-token")
    assert response.status_code == 401
    assert "not the admin token" in response.text
    assert not any(
        c.startswith("zb_admin_session=") for c in response.headers.get_list("set-cookie")
    )


async def test_login_without_the_form_csrf_token_is_forbidden(client: httpx.AsyncClient) -> None:
    await client.get("/admin/login")
    response = await client.post("/admin/login", data={"token": TOKEN, "csrf_token": "forged"})
    assert response.status_code == 403


async def test_login_is_rate_limited_per_client_address(
    engine: Engine, refs: dict[str, str], clock: Clock
) -> None:
    app = build_app(engine, clock)
    async with client_for(app, ip="10.0.0.9") as attacker, client_for(app, ip="10.0.0.8") as other:
        for _ in range(5):
            assert (await sign_in(attacker, "guess")).status_code == 401
        blocked = await sign_in(attacker, TOKEN)  # even the right token waits
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["retry-after"]) <= 60
        assert (await sign_in(other)).status_code == 303
        clock.now_s += 61
        assert (await sign_in(attacker)).status_code == 303


async def test_wrong_bearer_tokens_count_towards_the_same_limit(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(5):
        await client.get("/admin/api/operations", headers={"Authorization": "Bearer guess"})
    response = await client.get(
        "/admin/api/operations", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 429
    assert "retry-after" in response.headers


async def test_a_session_expires(client: httpx.AsyncClient, clock: Clock) -> None:
    await sign_in(client)
    clock.now_s += 8 * 3600 + 1
    assert (await client.get("/admin/meetings")).status_code == 401


async def test_a_tampered_session_cookie_is_refused(client: httpx.AsyncClient) -> None:
    await sign_in(client)
    value = client.cookies["zb_admin_session"]
    nonce, expires, signature = value.split(".")
    client.cookies.set("zb_admin_session", f"{nonce}.{int(expires) + 9999}.{signature}",
                       domain="127.0.0.1", path="/")  # fmt: skip
    assert (await client.get("/admin/meetings")).status_code == 401


async def test_after_login_the_user_only_goes_to_admin_pages(client: httpx.AsyncClient) -> None:
    page = await client.get("/admin/login")
    response = await client.post(
        "/admin/login",
        data={"csrf_token": form_csrf(page.text), "token": TOKEN, "next": "//evil.example/x"},
    )
    assert response.headers["location"] == "/admin/meetings"


async def test_logout_needs_csrf_and_ends_the_session(client: httpx.AsyncClient) -> None:
    await sign_in(client)
    page = await client.get("/admin/meetings")
    assert (await client.post("/admin/logout")).status_code == 403
    response = await client.post("/admin/logout", data={"csrf_token": form_csrf(page.text)})
    assert response.status_code == 303
    assert (await client.get("/admin/meetings")).status_code == 401
    cleared = [c.lower() for c in response.headers.get_list("set-cookie")]
    paths = sorted(c.split("path=")[1].split(";")[0] for c in cleared)
    assert paths == ["/", "/admin"]  # the session's, and one an older version set on /admin
    assert all("max-age=0" in c for c in cleared)


def test_sessions_signed_with_another_token_are_invalid() -> None:
    value, _ = Sessions("token-a").issue(now_s=0)
    assert Sessions("token-a").verify(value, now_s=1) is not None
    assert Sessions("token-b").verify(value, now_s=1) is None


def test_the_login_limiter_forgets_the_oldest_clients_beyond_its_bound() -> None:
    limiter = LoginLimiter(max_failures=1, window_s=60, max_clients=2)
    for client in ("a", "b", "c"):
        limiter.fail(client, now_s=0)
    assert limiter.retry_after_s("a", now_s=1) == 0
    assert limiter.retry_after_s("c", now_s=1) == 59


# -- CSRF on state-changing forms -----------------------------------------------------------


@pytest.mark.parametrize("csrf", [None, "wrong-token"])
async def test_retry_form_without_the_right_csrf_token_is_forbidden(
    client: httpx.AsyncClient, refs: dict[str, str], engine: Engine, csrf: str | None
) -> None:
    await sign_in(client)
    data = {"ref": refs["outbox"]} | ({"csrf_token": csrf} if csrf else {})
    response = await client.post("/admin/operations/retry", data=data)
    assert response.status_code == 403
    with reading(engine) as conn:
        assert outbox.counts(conn)["dead"] == 1


async def test_retry_form_with_the_session_csrf_token_requeues(
    client: httpx.AsyncClient, refs: dict[str, str], engine: Engine
) -> None:
    await sign_in(client)
    csrf = form_csrf((await client.get("/admin/operations")).text)
    response = await client.post(
        "/admin/operations/retry", data={"ref": refs["outbox"], "csrf_token": csrf}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/operations?requeued=1"
    with reading(engine) as conn:
        assert outbox.counts(conn)["dead"] == 0


async def test_the_api_with_a_session_cookie_needs_the_csrf_header(
    client: httpx.AsyncClient, refs: dict[str, str]
) -> None:
    await sign_in(client)
    body = {"refs": [refs["job"]]}
    assert (await client.post("/admin/api/dead-letters/retry", json=body)).status_code == 403
    csrf = form_csrf((await client.get("/admin/operations")).text)
    response = await client.post(
        "/admin/api/dead-letters/retry", json=body, headers={"X-CSRF-Token": csrf}
    )
    assert response.json() == {"requeued": 1}


# -- disabled ------------------------------------------------------------------------------


def settings_with(tmp_path: Path, admin_token: str | None) -> object:
    text = sandbox_config("http://127.0.0.1:9", {}, storage_url=f"sqlite:///{tmp_path / 'x.db'}")
    if admin_token is not None:
        text += f"server:\n  admin_token: {admin_token}\n"
    path = tmp_path / "zoom-brevo.yaml"
    path.write_text(text, "utf-8")
    return load_settings(path, {})


async def test_admin_is_absent_when_no_admin_token_is_configured(
    tmp_path: Path, engine: Engine
) -> None:
    routes = admin_routes_for(settings_with(tmp_path, None), engine)  # type: ignore[arg-type]
    assert routes == []
    async with client_for(Starlette(routes=routes)) as c:
        for path in ("/admin/meetings", "/admin/login", "/admin/api/meetings"):
            assert (await c.get(path)).status_code == 404


async def test_a_configured_admin_token_mounts_admin_with_the_plans_limits(
    tmp_path: Path, engine: Engine
) -> None:
    settings = settings_with(tmp_path, "configured-secret-token")
    app = Starlette(routes=admin_routes_for(settings, engine))  # type: ignore[arg-type]
    async with client_for(app) as c:
        headers = {"Authorization": "Bearer configured-secret-token"}
        response = await c.get("/admin/api/operations", headers=headers)
    assert response.status_code == 200
    assert response.json()["limits"]["brevo"]["plan"] == "general"
