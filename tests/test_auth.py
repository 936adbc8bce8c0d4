"""Beyond loopback, every page and API call needs a user: a session from /login or an API
token; failed logins are rate-limited; passwords are kept as argon2id hashes."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from veille.cli import app
from veille.store import Store
from veille.store.schema import users
from veille.web import create_app


@pytest.fixture
def guarded(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'auth.db'}")
    token = store.add_user("ana", "correct horse battery staple")
    with TestClient(create_app(store, require_login=True)) as client:
        yield client, store, token
    store.close()


def _login(client: TestClient, password: str, name: str = "ana"):
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/login",
        data={"csrf": token, "name": name, "password": password, "next": "/entities"},
        follow_redirects=False,
    )


def test_nothing_without_a_user(guarded):
    client, _, _ = guarded
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")
    assert client.get("/api/v1/stories").status_code == 401
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/login").status_code == 200


def test_an_api_token_opens_the_api(guarded):
    client, _, token = guarded
    assert (
        client.get("/api/v1/stories", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    assert (
        client.get("/api/v1/stories", headers={"Authorization": "Bearer wrong"}).status_code == 401
    )


def test_login_then_pages_then_logout(guarded):
    client, _, _ = guarded
    assert _login(client, "wrong").headers["location"].startswith("/login?failed=1")
    done = _login(client, "correct horse battery staple")
    assert done.status_code == 303 and done.headers["location"] == "/entities"
    assert client.get("/entities").status_code == 200
    assert client.get("/api/v1/entities").status_code == 200  # the session opens the API too
    csrf = client.cookies.get("veille_csrf")
    client.post("/logout", data={"csrf": csrf})
    assert client.get("/entities", follow_redirects=False).status_code == 303


def test_failed_logins_are_limited(guarded):
    client, _, _ = guarded
    for _ in range(5):
        assert _login(client, "guess").status_code == 303
    assert _login(client, "correct horse battery staple").status_code == 429


def test_passwords_are_argon2_hashes(guarded):
    _, store, token = guarded
    with store.engine.connect() as conn:
        row = conn.execute(users.select()).mappings().one()
    assert row["password_hash"].startswith("$argon2id$")
    assert "correct horse" not in row["password_hash"] and token not in row["token_hash"]
    assert not store.check_password("nobody", "x")


def test_cli_user_add_and_serve_beyond_loopback(tmp_path, monkeypatch):
    db = ["--db", str(tmp_path / "cli.db")]
    runner = CliRunner()
    refused = runner.invoke(app, ["serve", "--host", "0.0.0.0", *db])
    assert refused.exit_code == 2 and "veille user add" in refused.output
    added = runner.invoke(app, ["user", "add", "ana", *db], input="s3cret-pass\ns3cret-pass\n")
    assert added.exit_code == 0, added.output
    assert re.search(r"[A-Za-z0-9_-]{40,}", added.output)  # the API token, shown once
    served = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: served.update(kwargs, app=app))
    assert runner.invoke(app, ["serve", "--host", "0.0.0.0", *db]).exit_code == 0
    assert served["host"] == "0.0.0.0" and served["app"].state.require_login
