"""HTTP requests to the running server (``streamlit run app.py``): security headers and the
session-cookie routes (CSRF: other origins refused; the cookie is HttpOnly and SameSite=Strict)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from casestudy import access, browser_sessions, demo, migrate, users
from casestudy import db as dbmod
from tests.conftest import ROOT, streamlit_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("http")
    url = f"sqlite:///{folder / 'http.sqlite'}"
    store = dbmod.Store(url)
    migrate.upgrade(store)
    with store.write() as session:
        users.add_user(session, "ana", "a long pass phrase 1", "coder")
    store.dispose()
    with streamlit_server(ROOT / "app.py", {"CASESTUDY_DATABASE_URL": url}, folder / "streamlit.log") as base:
        yield {"base": base, "url": url}


def _request(url: str, *, method: str = "GET", body: dict | None = None, headers: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


@pytest.mark.parametrize("path", ["/", "/coding", "/_stcore/health", "/static/favicon.png", "/?token=abc"])
def test_every_response_carries_the_security_headers(server, path):
    status, headers, _ = _request(server["base"] + path)
    assert status < 500
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in csp and "object-src 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]


def _handover(url: str) -> str:
    store = dbmod.Store(url)
    try:
        principal = access.login(store, "ana", "a long pass phrase 1")
        return browser_sessions.start(store, principal).handover
    finally:
        store.dispose()


def test_cookie_route_refuses_other_origins(server):
    handover = _handover(server["url"])
    for headers in ({}, {"Origin": "https://evil.example.org"}, {"Origin": "null"}):
        status, response_headers, _ = _request(server["base"] + "/_cs/session", method="POST", body={"handover": handover}, headers=headers)
        assert status == 403 and "set-cookie" not in {k.lower() for k in response_headers}
    _, headers, _ = _request(server["base"] + "/_cs/session", headers={"Origin": server["base"]})
    assert "casestudy_session" not in (headers.get("Set-Cookie") or "")  # a GET never sets the cookie


def test_cookie_route_sets_an_httponly_strict_cookie_once(server):
    handover = _handover(server["url"])
    origin = {"Origin": server["base"]}
    status, headers, _ = _request(server["base"] + "/_cs/session", method="POST", body={"handover": handover}, headers=origin)
    assert status == 200
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("casestudy_session=") and "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http here; over https the __Host- cookie is Secure
    secret = cookie.split("=", 1)[1].split(";", 1)[0]
    assert len(secret) >= 43
    again, _, _ = _request(server["base"] + "/_cs/session", method="POST", body={"handover": handover}, headers=origin)
    assert again == 403

    status, headers, _ = _request(server["base"] + "/_cs/logout", method="POST", body={},
                                  headers={**origin, "Cookie": f"casestudy_session={secret}"})
    assert status == 200 and "casestudy_session=" in headers["Set-Cookie"] and "Max-Age=0" in headers["Set-Cookie"]
    store = dbmod.Store(server["url"])
    try:
        with pytest.raises(browser_sessions.SessionEnded):
            browser_sessions.resolve(store, secret)
    finally:
        store.dispose()
