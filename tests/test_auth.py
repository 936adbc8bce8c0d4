"""Beyond loopback, every page and API call needs a user: a session from /login or an API
token with its scope; sessions end at logout, at a new password and with the user;
failed logins are rate-limited; passwords are kept as argon2id hashes."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.helpers import LOCAL
from veille.cli import app
from veille.config import Settings
from veille.operations import accounts
from veille.store import Store
from veille.store.schema import users
from veille.store.sessions import api_tokens
from veille.web import create_app

PASSWORD = "correct horse battery staple"


@pytest.fixture
def guarded(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'auth.db'}")
    _, token = accounts.add_user(store, "ana", PASSWORD)
    with TestClient(create_app(store, Settings(), require_login=True), base_url=LOCAL) as client:
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


def _signed_out(client: TestClient) -> bool:
    """Whether a page sends the client to the login page."""
    answer = client.get("/entities", follow_redirects=False)
    return answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_nothing_without_a_user(guarded):
    client, _, _ = guarded
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")
    assert client.get("/api/v1/stories").status_code == 401
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/login").status_code == 200


def test_an_api_token_opens_the_api(guarded):
    client, _, token = guarded
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/stories", headers=bearer).status_code == 200
    assert client.get("/api/v1/me", headers=bearer).json() == {"user": "ana", "scope": "write"}
    wrong = {"Authorization": "Bearer wrong"}
    assert client.get("/api/v1/stories", headers=wrong).status_code == 401


def test_a_read_token_reads_and_writes_nothing(guarded):
    client, store, _ = guarded
    _, secret = accounts.add_token(store, "ana", "dashboard", "read")
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/watches", headers=bearer).status_code == 200
    refused = client.post("/api/v1/watches", json={"name": "x", "query": "Musk"}, headers=bearer)
    assert refused.status_code == 403 and "read" in refused.json()["detail"]
    assert store.watch("x") is None
    # Nor can it mint itself a token that writes.
    assert client.post("/api/v1/tokens", json={"scope": "write"}, headers=bearer).status_code == 403


def test_tokens_are_made_listed_and_revoked_through_the_api(guarded):
    client, _, token = guarded
    bearer = {"Authorization": f"Bearer {token}"}
    made = client.post("/api/v1/tokens", json={"name": "cron", "scope": "read"}, headers=bearer)
    assert made.status_code == 201 and made.json()["scope"] == "read"
    secret, token_id = made.json()["secret"], made.json()["id"]
    listed = client.get("/api/v1/tokens", headers=bearer).json()["items"]
    assert {t["name"] for t in listed} == {"default", "cron"} and "secret" not in listed[0]
    new = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/stories", headers=new).status_code == 200
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=bearer).status_code == 204
    assert client.get("/api/v1/stories", headers=new).status_code == 401


def test_login_then_pages_then_logout_ends_the_session(guarded):
    client, _, _ = guarded
    assert _login(client, "wrong").headers["location"].startswith("/login?failed=1")
    done = _login(client, PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == "/entities"
    assert client.get("/entities").status_code == 200
    assert client.get("/api/v1/entities").status_code == 200  # the session opens the API too
    cookie = client.cookies.get("veille_session")
    csrf = client.cookies.get("veille_csrf")
    client.post("/logout", data={"csrf": csrf})
    assert _signed_out(client)
    # The old cookie, kept by an attacker or a stale tab, no longer opens anything.
    client.cookies.set("veille_session", cookie)
    assert _signed_out(client)
    assert client.get("/api/v1/entities").status_code == 401


@pytest.mark.parametrize("how", ["passwd", "remove"])
def test_a_new_password_or_the_users_removal_ends_sessions(guarded, tmp_path, how):
    client, _, token = guarded
    _login(client, PASSWORD)
    assert client.get("/entities").status_code == 200
    runner = CliRunner()
    db = ["--db", str(tmp_path / "auth.db")]
    if how == "passwd":
        done = runner.invoke(app, ["user", "passwd", "ana", *db], input="n3w-secret\nn3w-secret\n")
    else:
        done = runner.invoke(app, ["user", "remove", "ana", *db])
    assert done.exit_code == 0, done.output
    assert _signed_out(client)
    bearer = {"Authorization": f"Bearer {token}"}
    # A new password keeps the API tokens (revoked one by one); a removal takes them too.
    expected = 200 if how == "passwd" else 401
    assert client.get("/api/v1/stories", headers=bearer).status_code == expected


def test_failed_logins_are_limited(guarded):
    client, _, _ = guarded
    for _ in range(5):
        assert _login(client, "guess").status_code == 303
    assert _login(client, PASSWORD).status_code == 429


def test_passwords_and_tokens_are_stored_hashed(guarded):
    _, store, token = guarded
    with store.engine.connect() as conn:
        user = conn.execute(users.select()).mappings().one()
        kept = conn.execute(api_tokens.select()).mappings().one()
    assert user["password_hash"].startswith("$argon2id$")
    assert "correct horse" not in user["password_hash"] and token not in kept["token_hash"]
    assert not store.check_password("nobody", "x")


def test_cli_users_and_serve_beyond_loopback(tmp_path, monkeypatch):
    db = ["--db", str(tmp_path / "cli.db")]
    runner = CliRunner()
    monkeypatch.setattr("veille.cli.console.width", 80)
    refused = runner.invoke(app, ["serve", "--host", "0.0.0.0", *db])
    assert refused.exit_code == 2 and "veille user add" in refused.output
    short = runner.invoke(app, ["user", "add", "bo", *db], input="short\nshort\n")
    assert short.exit_code == 2 and "Huit caractères" in short.output
    added = runner.invoke(app, ["user", "add", "ana", *db], input="s3cret-pass\ns3cret-pass\n")
    assert added.exit_code == 0, added.output
    assert re.search(r"[A-Za-z0-9_-]{40,}", added.output)  # the API token, shown once
    token = runner.invoke(app, ["user", "token", "ana", "--name", "cron", *db])
    assert token.exit_code == 0 and "cron" in token.output and "read" in token.output
    listed = runner.invoke(app, ["user", "list", *db])
    assert "ana" in listed.output and "…" not in listed.output
    served = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: served.update(kwargs, app=app))
    assert runner.invoke(app, ["serve", "--host", "0.0.0.0", *db]).exit_code == 0
    assert served["host"] == "0.0.0.0" and served["app"].state.require_login
    assert runner.invoke(app, ["user", "remove", "ana", *db]).exit_code == 0
    assert runner.invoke(app, ["user", "remove", "ana", *db]).exit_code == 1


def test_cli_account_times_are_the_reader_s_clock(tmp_path, monkeypatch):
    # Stored in UTC, shown where the reader is (`[digest] timezone`), as pages and digests.
    db = ["--db", str(tmp_path / "cli.db")]
    config = tmp_path / "config.toml"
    config.write_text('[digest]\ntimezone = "Pacific/Kiritimati"\n', encoding="utf-8")
    monkeypatch.setattr("veille.cli.console.width", 120)
    monkeypatch.setattr("veille.clock.now", lambda: datetime(2026, 2, 3, 20, 5))
    runner = CliRunner()
    added = runner.invoke(app, ["user", "add", "ana", *db], input="s3cret-pass\ns3cret-pass\n")
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["user", "list", *db, "--config", str(config)])
    assert "2026-02-04 10:05" in listed.output  # UTC+14
    tokens = runner.invoke(app, ["user", "token", "ana", *db, "--config", str(config)])
    assert "2026-02-04 10:05" in tokens.output
