"""The browser-borne attacks a self-hosted `veille serve` meets, each refused: a foreign Host
(DNS rebinding), forms posted from another origin (another site, another port of the
machine), watch targets on the machine or its network (SSRF) or outside the digest folder,
huge and undecodable bodies, queries nested to exhaust the parser, and a slow delivery
holding the server."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.helpers import LOCAL
from tests.servers import HeldHook
from veille.config import DeliverySettings, Settings, SmtpSettings, WebSettings
from veille.model import Watch
from veille.store import Store
from veille.web import create_app, serving

NESTED = "(" * 300 + "Musk" + ")" * 300


@pytest.fixture
def store(tmp_path):
    opened = Store(f"sqlite:///{tmp_path / 'attacks.db'}")
    yield opened
    opened.close()


@pytest.fixture
def digests(tmp_path) -> Path:
    return tmp_path / "digests"


def _client(store: Store, settings: Settings, base: str = LOCAL) -> TestClient:
    return TestClient(create_app(store, settings), base_url=base)


def _csrf(client: TestClient, page: str = "/watches") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(page).text).group(1)


class _Listener:
    """A TCP port on loopback that counts the connections made to it."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.accepted = 0
        self.done = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.done.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self.done.set()
        self.socket.close()


# -- DNS rebinding ---------------------------------------------------------------------------


def test_a_foreign_host_name_is_refused(store):
    settings = Settings(web=WebSettings(allowed_hosts=("veille.example.org",)))
    with _client(store, settings, "http://attacker.example") as rebound:
        for path in ("/", "/watches", "/api/v1/stories", "/openapi.json", "/docs"):
            assert rebound.get(path).status_code == 400, path
        assert rebound.post("/watches", data={"name": "x"}).status_code == 400
    for base in ("http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"):
        with _client(store, settings, base) as local:
            assert local.get("/api/v1/stories").status_code == 200, base
    with _client(store, settings, "https://veille.example.org") as named:
        assert named.get("/api/v1/stories").status_code == 200


# -- forged forms ----------------------------------------------------------------------------


def test_a_form_from_another_origin_is_refused_whatever_its_cookie(store, digests):
    with _client(store, Settings(delivery=DeliverySettings(folder=digests))) as client:
        token = _csrf(client)  # as a page on another port of 127.0.0.1 could set it
        form = {"csrf": token, "name": "planted", "query": "Musk"}
        for forged in (
            {"Origin": "http://127.0.0.1:9999"},
            {"Origin": "https://attacker.example"},
            {"Origin": "null"},
            {"Referer": "http://127.0.0.1:9999/page.html"},
        ):
            answer = client.post("/watches", data=form, headers=forged, follow_redirects=False)
            assert answer.status_code == 403, forged
        assert store.watch("planted") is None
        api = client.post(
            "/api/v1/watches",
            json={"name": "planted", "query": "Musk"},
            headers={"Origin": "http://127.0.0.1:9999"},
        )
        assert api.status_code == 403 and store.watch("planted") is None
        # This site's own form, as a browser sends it, goes through.
        own = client.post("/watches", data=form, headers={"Origin": LOCAL}, follow_redirects=False)
        assert own.status_code == 303 and store.watch("planted") is not None


def test_an_undecodable_form_is_a_400(store):
    with _client(store, Settings()) as client:
        _csrf(client)
        answer = client.post(
            "/watches",
            content=b"name=\xff\xfe&query=Musk",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 400


# -- SSRF and file writes through the watch form --------------------------------------------


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("webhook:http://127.0.0.1:{port}/x", "adresse de bouclage"),
        ("slack:http://[::1]:{port}/x", "adresse de bouclage"),
        ("webhook:http://10.0.0.1/hook", "adresse privée"),
        ("mattermost:http://169.254.169.254/latest", "métadonnées"),
        ("file:/tmp/elsewhere", "hors du dossier des résumés"),
        ("file:../escape", "hors du dossier des résumés"),
    ],
)
def test_watch_targets_the_guard_refuses_are_refused_with_the_reason(
    store, digests, target, reason
):
    listener = _Listener()
    target = target.format(port=listener.port)
    try:
        with _client(store, Settings(delivery=DeliverySettings(folder=digests))) as client:
            form = {"csrf": _csrf(client), "name": "x", "query": "Musk", "targets": target}
            page = client.post("/watches", data=form, follow_redirects=True)
            assert reason in page.text and store.watch("x") is None
            api = client.post(
                "/api/v1/watches", json={"name": "x", "query": "Musk", "targets": [target]}
            )
            assert api.status_code == 422 and reason in api.json()["detail"]
    finally:
        listener.close()
    assert listener.accepted == 0  # the port was never even probed
    assert not Path("/tmp/elsewhere").exists() or target != "file:/tmp/elsewhere"


def test_delivery_refuses_a_name_that_resolves_to_the_machine(store, digests):
    """A host name is judged when the digest is sent, address by address, as the fetcher
    judges them: `localhost` is loopback whatever the watch form could see."""
    listener = _Listener()
    settings = Settings(delivery=DeliverySettings(folder=digests, retries=1))
    store.save_watch(
        Watch("hook", "Musk", targets=(f"webhook:http://localhost:{listener.port}/x",))
    )
    try:
        with _client(store, settings) as client:
            page = client.post(
                "/watches/hook/send",
                data={"csrf": _csrf(client), "date": "2026-02-03"},
                follow_redirects=True,
            )
    finally:
        listener.close()
    assert "adresse de bouclage" in page.text and "delivery.allow" in page.text
    assert listener.accepted == 0


def test_smtp_through_the_guard_too(store, digests):
    listener = _Listener()
    settings = Settings(
        smtp=SmtpSettings(host="127.0.0.1", port=listener.port, security="none"),
        delivery=DeliverySettings(folder=digests, retries=1),
    )
    store.save_watch(Watch("mail", "Musk", targets=("mailto:ana@example.org",)))
    try:
        with _client(store, settings) as client:
            page = client.post(
                "/watches/mail/send",
                data={"csrf": _csrf(client), "date": "2026-02-03"},
                follow_redirects=True,
            )
    finally:
        listener.close()
    assert f"serveur SMTP 127.0.0.1:{listener.port}" in page.text
    assert "adresse de bouclage" in page.text and listener.accepted == 0
    # Allow-listed, the same server is reached (and answers nothing SMTP: a failure).
    assert Settings(delivery=DeliverySettings(allow=("127.0.0.1",))).delivery.allow


def test_file_targets_write_inside_the_digest_folder(store, digests):
    with _client(store, Settings(delivery=DeliverySettings(folder=digests))) as client:
        form = {"csrf": _csrf(client), "name": "ok", "query": "Musk", "targets": "file:weekly"}
        client.post("/watches", data=form)
        assert store.watch("ok").targets == ("file:weekly",)
        client.post("/watches/ok/send", data={"csrf": form["csrf"], "date": "2026-02-03"})
    assert (digests / "weekly" / "ok-2026-02-03.md").is_file()


# -- bodies ----------------------------------------------------------------------------------


# Only a server waiting for bytes that never come gets near this: it fails, not hangs.
HANG_GUARD = 60.0


def _raw(base: str, request: bytes, then: bytes = b"") -> bytes:
    """Send a raw request (and more bytes after it), return what the server answers."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=HANG_GUARD) as connection:
        connection.sendall(request)
        # The server may answer and close before reading it all: what is wanted.
        with contextlib.suppress(OSError):
            connection.sendall(then)
        answer = b""
        while b"\r\n\r\n" not in answer:
            try:
                chunk = connection.recv(4096)
            except TimeoutError:
                pytest.fail(f"hung: no answer in {HANG_GUARD:.0f} s, the server waits for more")
            if not chunk:
                break
            answer += chunk
    return answer


def test_a_huge_body_is_refused_before_it_is_read(store):
    settings = Settings()
    app = create_app(store, settings)
    with serving(app) as base:
        host = base.removeprefix("http://")
        declared = 300 * 1024 * 1024
        # 64 KB of the 300 MB declared are sent, under the limit: a server reading the body
        # before judging it would wait for the rest, and never answer.
        assert 65536 < settings.web.max_body < declared
        answer = _raw(
            base,
            f"POST /login HTTP/1.1\r\nHost: {host}\r\nContent-Type: "
            f"application/x-www-form-urlencoded\r\nContent-Length: {declared}\r\n\r\n".encode(),
            b"x" * 65536,
        )
        assert answer.startswith(b"HTTP/1.1 413")
        # A streamed body with no length is cut as soon as it passes the limit.
        chunk = b"x" * 1_000_000
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(8))
        answer = _raw(
            base,
            f"POST /login HTTP/1.1\r\nHost: {host}\r\nContent-Type: "
            "application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n".encode(),
            chunks,
        )
        assert answer.startswith(b"HTTP/1.1 413")


# -- queries ---------------------------------------------------------------------------------


def test_a_query_nested_too_deep_is_a_clear_400(store):
    with _client(store, Settings()) as client:
        for path, params in (
            ("/search", {"q": NESTED}),
            ("/watches/preview", {"query": NESTED}),
        ):
            page = client.get(path, params=params)
            assert page.status_code == 400 and "niveaux" in page.text, path
        for path, params, position in (
            ("/api/v1/search", {"q": NESTED}, 32),  # the 33rd parenthesis
            ("/api/v1/search/stories", {"q": NESTED}, 32),
            ("/api/v1/preview", {"query": NESTED}, 32),
            ("/api/v1/search", {"q": "NOT " * 300 + "Musk"}, 4 * 32),  # the 33rd NOT
        ):
            answer = client.get(path, params=params)
            assert answer.status_code == 400, path
            assert "niveaux" in answer.json()["detail"]
            assert answer.json()["position"] == position


# -- a slow delivery -------------------------------------------------------------------------


def test_a_request_completes_while_a_delivery_is_blocked(store, digests):
    """Send now, to a webhook that holds the request: the delivery runs in a worker thread,
    and the pages and the API go on answering meanwhile."""
    with HeldHook() as hook:
        settings = Settings(delivery=DeliverySettings(folder=digests, allow=("127.0.0.1",)))
        store.save_watch(Watch("slow", "Musk", targets=(f"webhook:{hook.url}",)))
        with serving(create_app(store, settings)) as base, httpx.Client(base_url=base) as web:
            token = re.search(r'name="csrf" value="([^"]+)"', web.get("/watches").text).group(1)
            sent: list[httpx.Response] = []
            sending = threading.Thread(
                target=lambda: sent.append(
                    web.post("/watches/slow/send", data={"csrf": token}, timeout=60)
                )
            )
            sending.start()
            assert hook.arrived.wait(10)  # the delivery is in flight, held by the hook
            with httpx.Client(base_url=base, timeout=5) as other:
                assert other.get("/").status_code == 200
                assert other.get("/api/v1/watches").status_code == 200
                assert other.get("/watches").status_code == 200
            assert not hook.release.is_set() and sending.is_alive()  # still held
            hook.release.set()
            sending.join(30)
        assert sent and sent[0].status_code == 303 and "error" not in sent[0].headers["location"]
        assert hook.bodies
