"""SSRF guard: refusals happen before any connection, and nothing here leaves the loopback.

Every client uses a SpyBackend under the guard, which records connections and fails the
test outright if anything but a loopback address is dialled, and a FakeDNS resolver, so no
query reaches a real DNS server either.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpcore
import httpx
import pytest

from veille.fetch.safety import (
    Allowlist,
    GuardedBackend,
    UnsafeConnectError,
    UnsafeURLError,
    check_url,
    guarded_transport,
    is_public,
    refusal,
    system_resolver,
)

# --- helpers ---------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", parse_qs(parts.query)["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = f"ok host={self.headers['Host']}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


class _NoTLSStream(httpcore.AsyncNetworkStream):
    """Wraps a stream to record the name TLS would verify, without any handshake."""

    def __init__(self, stream: httpcore.AsyncNetworkStream, spy: SpyBackend) -> None:
        self.stream = stream
        self.spy = spy

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self.stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self.stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self.stream.aclose()

    async def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout=None):
        self.spy.tls_names.append(server_hostname)
        raise httpcore.ConnectError("test stops before the TLS handshake")

    def get_extra_info(self, info: str) -> Any:
        return self.stream.get_extra_info(info)


class SpyBackend(httpcore.AsyncNetworkBackend):
    """The inner backend: records every dial and refuses anything off the loopback."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.calls: list[tuple[str, int]] = []
        self.tls_names: list[str | None] = []
        self.sleeps: list[float] = []  # httpcore's back-off between connection retries

    async def connect_tcp(
        self, host, port, timeout=None, local_address=None, socket_options=None
    ) -> httpcore.AsyncNetworkStream:
        self.calls.append((host, port))
        if not ipaddress.ip_address(host).is_loopback:
            raise AssertionError(f"the guard let a connection to {host} through")
        stream = await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _NoTLSStream(stream, self)

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise AssertionError("unix socket dialled")

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await self.inner.sleep(seconds)


class FakeDNS:
    def __init__(self, answers: dict[str, list[str]] | None = None) -> None:
        self.answers = answers or {}
        self.queries: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.queries.append(host)
        if host in self.answers:
            return list(self.answers[host])
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def _client(
    allow: list[str] | None = None,
    *,
    spy: SpyBackend,
    dns: FakeDNS | None = None,
    trust_env: bool = False,
    **kwargs: Any,
) -> httpx.AsyncClient:
    transport = guarded_transport(
        Allowlist.parse(allow or []), resolver=dns or FakeDNS(), backend=spy, **kwargs
    )
    return httpx.AsyncClient(transport=transport, trust_env=trust_env, timeout=5)


def _other_port(port: int) -> int:
    return port + 1 if port < 65535 else port - 1


# --- is_public -------------------------------------------------------------------------------

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "193.51.24.1",
    "2606:4700:4700::1111",
    "2a00:1450:4007:80e::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    "2002:808:808::1",  # 6to4 of 8.8.8.8
]

NOT_PUBLIC = [
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "172.16.5.4",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "169.254.1.1",
    "100.64.0.1",
    "100.100.100.200",
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",
    "239.255.255.250",
    "255.255.255.255",
    "240.0.0.1",
    "192.0.0.9",
    "192.0.2.1",
    "192.88.99.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "::",
    "::1",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "fd12:3456::1",
    "fd00:ec2::254",
    "fec0::1",
    "ff02::1",
    "ff0e::1",
    "2001:db8::1",
    "3fff::1",
    "2001::1",  # Teredo
    "::ffff:10.0.0.1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b:1::a00:1",  # local-use NAT64 prefix
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "::7f00:1",  # deprecated IPv4-compatible form
    "100::1",
    "4000::1",  # unallocated
]


@pytest.mark.parametrize("ip", PUBLIC)
def test_public_addresses(ip: str) -> None:
    assert is_public(ip)


@pytest.mark.parametrize("ip", NOT_PUBLIC)
def test_non_public_addresses(ip: str) -> None:
    assert not is_public(ip)
    assert not is_public(ipaddress.ip_address(ip))


# --- check_url -------------------------------------------------------------------------------

REFUSED_LITERALS = [
    ("http://127.0.0.1/", "127.0.0.1"),
    ("http://127.0.0.1:8080/admin", "127.0.0.1"),
    ("http://10.0.0.1/", "10.0.0.1"),
    ("https://192.168.0.1/", "192.168.0.1"),
    ("http://172.16.0.1/", "172.16.0.1"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
    ("http://100.64.0.1/", "100.64.0.1"),
    ("http://0.0.0.0/", "0.0.0.0"),
    ("http://224.0.0.1/", "224.0.0.1"),
    ("http://[::1]/", "::1"),
    ("http://[::1]:8080/", "::1"),
    ("http://[fe80::1]/", "fe80::1"),
    ("http://[fe80::1%25eth0]/", "fe80::1"),
    ("http://[fd00::1]/", "fd00::1"),
    ("http://[::ffff:10.0.0.1]/", "10.0.0.1"),
    ("http://[::ffff:127.0.0.1]/", "127.0.0.1"),
    ("http://[64:ff9b::169.254.169.254]/", "169.254.169.254"),
    ("http://[::]/", "::"),
    # The spellings browsers and curl turn into an IPv4 address.
    ("http://2130706433/", "127.0.0.1"),
    ("http://0x7f.1/", "127.0.0.1"),
    ("http://017700000001/", "127.0.0.1"),
    ("http://0x7f000001/", "127.0.0.1"),
    ("http://127.1/", "127.0.0.1"),
    ("http://0177.0.1/", "127.0.0.1"),
    ("http://127.0.0.1./", "127.0.0.1"),
    ("http://0/", "0.0.0.0"),
    ("http://0xa9.0xfe.0xa9.0xfe/", "169.254.169.254"),
    ("http://2852039166/", "169.254.169.254"),
    ("http://0xc0.0250.1/", "192.168.0.1"),
    ("http://%31%32%37.0.0.1/", "127.0.0.1"),
    # Userinfo does not hide the host that is checked.
    ("http://user:pass@10.0.0.1/", "10.0.0.1"),
    ("http://example.com@10.0.0.1/", "10.0.0.1"),
]


@pytest.mark.parametrize(("url", "address"), REFUSED_LITERALS)
def test_check_url_refuses_non_public_literals(url: str, address: str) -> None:
    with pytest.raises(UnsafeURLError) as caught:
        check_url(url)
    assert caught.value.url == url
    assert address in caught.value.reason


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://ftp.example.org/file",
        "gopher://example.org:70/_GET",
        "javascript:alert(1)",
        "dict://127.0.0.1:11211/stat",
        "//example.org/no-scheme",
    ],
)
def test_check_url_refuses_other_schemes(url: str) -> None:
    with pytest.raises(UnsafeURLError):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http:///path",
        "http://:80/",
        "http://foo.123/",
        "http://1.2.3.4.5/",
        # Four dotted numbers go to httpx's own strict parser, which rejects leading zeros.
        "http://0177.0.0.1/",
        "http://010.0.0.1/",
    ],
)
def test_check_url_refuses_hostless_and_malformed(url: str) -> None:
    with pytest.raises(UnsafeURLError):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.lemonde.fr/politique/",
        "HTTP://Example.COM:8080/x",
        "http://8.8.8.8/",
        "http://[2606:4700:4700::1111]/",
        "http://[::ffff:8.8.8.8]/",
        "https://user@www.example.org/",
        "https://exämple.org/",
        "http://intranet.example/",  # names are checked when resolved, not here
    ],
)
def test_check_url_accepts_public(url: str) -> None:
    check_url(url)


def test_check_url_allow_list() -> None:
    check_url("http://127.0.0.1:8080/", allow=Allowlist.parse(["127.0.0.0/8"]))
    check_url("http://[::ffff:127.0.0.1]/", allow=Allowlist.parse(["127.0.0.1"]))
    only_8080 = Allowlist.parse(["127.0.0.1:8080"])
    check_url("http://127.0.0.1:8080/", allow=only_8080)
    check_url("http://2130706433:8080/", allow=only_8080)
    with pytest.raises(UnsafeURLError):
        check_url("http://127.0.0.1/", allow=only_8080)  # port 80
    with pytest.raises(UnsafeURLError):
        check_url("http://10.0.0.1/", allow=Allowlist.parse(["127.0.0.0/8"]))


def test_reasons_in_english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEILLE_LANG", "en")
    with pytest.raises(UnsafeURLError) as caught:
        check_url("http://10.0.0.1/")
    assert str(caught.value) == (
        "10.0.0.1 is a private address: refused (add it to fetch.allow to permit it)"
    )
    with pytest.raises(UnsafeURLError) as caught:
        check_url("http://[::ffff:a9fe:a9fe]/")
    assert caught.value.reason.startswith("::ffff:a9fe:a9fe (169.254.169.254) is the cloud")
    with pytest.raises(UnsafeURLError) as caught:
        check_url("gopher://example.org/")
    assert caught.value.reason == "unsupported scheme 'gopher': only http and https are fetched"


# --- Allowlist -------------------------------------------------------------------------------


def test_allowlist_parse_and_match() -> None:
    allow = Allowlist.parse(
        [
            "127.0.0.0/8",
            "Intranet.Example.",
            "*.corp.example:8080",
            "[::1]:9000",
            "10.0.0.1:80",
            "fd00::/8",
            "exämple.org",
            "  ",
        ]
    )
    assert allow.allows_ip("127.3.2.1", 1234)
    assert allow.allows_ip("::ffff:127.0.0.1")  # the IPv4 inside is what is allowed
    assert allow.allows_ip("::1", 9000) and not allow.allows_ip("::1", 9001)
    assert allow.allows_ip("10.0.0.1", 80) and not allow.allows_ip("10.0.0.1", 443)
    assert allow.allows_ip("fd00::5") and not allow.allows_ip("fc00::5")
    assert not allow.allows_ip("0.0.0.1")  # an IPv4 never matches an IPv6 network
    assert allow.allows_host("intranet.example", 443)
    assert allow.allows_host("INTRANET.example.", 80)
    assert not allow.allows_host("www.intranet.example", 80)
    assert allow.allows_host("a.b.corp.example", 8080)
    assert not allow.allows_host("a.corp.example", 80)
    assert not allow.allows_host("corp.example", 8080)  # *. means subdomains only
    assert not allow.allows_host("evilcorp.example", 8080)
    assert allow.allows_host("xn--exmple-cua.org")
    assert allow.allows_host("127.0.0.1", 80)  # an IP literal host goes by the networks
    assert not Allowlist.parse([]).allows_host("localhost")


@pytest.mark.parametrize(
    "entry", ["a b", "host:99999", "host:0", "host:x", "[::1", "*.", "http://x", "a..b", "-a.b"]
)
def test_allowlist_rejects_bad_entries(entry: str) -> None:
    with pytest.raises(ValueError, match=r"fetch\.allow"):
        Allowlist.parse([entry])


# --- the guarded client ----------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("url", [url for url, _ in REFUSED_LITERALS])
async def test_client_refuses_literals_without_connecting(url: str) -> None:
    spy, dns = SpyBackend(), FakeDNS()
    async with _client(spy=spy, dns=dns) as client:
        with pytest.raises(UnsafeConnectError) as caught:
            await client.get(url)
    assert isinstance(caught.value, httpx.ConnectError)
    assert isinstance(caught.value, UnsafeURLError)
    assert caught.value.request.url == httpx.URL(url)
    assert spy.calls == [] and dns.queries == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "answers",
    [
        ["10.0.0.1"],
        ["169.254.169.254"],
        ["::1"],
        ["::ffff:192.168.0.1"],
        ["93.184.215.14", "10.0.0.1"],  # one private answer is enough to refuse
        ["10.0.0.1", "93.184.215.14"],
        ["2606:2800:21f:cb07:6820:80da:af6b:8b2c", "fe80::1"],
    ],
)
async def test_client_refuses_names_resolving_to_non_public(answers: list[str]) -> None:
    spy, dns = SpyBackend(), FakeDNS({"intranet.example": answers})
    async with _client(spy=spy, dns=dns) as client:
        with pytest.raises(UnsafeConnectError) as caught:
            await client.get("https://intranet.example/secret")
    assert caught.value.url == "https://intranet.example/secret"
    assert "intranet.example" in caught.value.reason
    assert dns.queries == ["intranet.example"]
    assert spy.calls == []


@pytest.mark.asyncio
async def test_refusal_reason_names_host_and_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VEILLE_LANG", "en")
    spy, dns = SpyBackend(), FakeDNS({"intranet.example": ["10.0.0.1"]})
    async with _client(spy=spy, dns=dns) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get("http://intranet.example/")
    assert str(caught.value) == (
        "host intranet.example resolves to 10.0.0.1, a private address: refused "
        "(add the host or the address to fetch.allow to permit it)"
    )
    assert refusal(caught.value) is caught.value


@pytest.mark.asyncio
async def test_dns_failure_is_an_ordinary_connect_error() -> None:
    spy = SpyBackend()
    async with _client(spy=spy) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get("http://no-such-host.example/")
    assert not isinstance(caught.value, UnsafeURLError)
    assert refusal(caught.value) is None
    assert "no-such-host.example" in str(caught.value)
    assert spy.calls == []


@pytest.mark.asyncio
async def test_retries_do_not_repeat_a_refusal() -> None:
    spy, dns = SpyBackend(), FakeDNS({"intranet.example": ["10.0.0.1"]})
    async with _client(spy=spy, dns=dns, retries=3) as client:
        with pytest.raises(UnsafeConnectError):
            await client.get("http://intranet.example/")
    assert dns.queries == ["intranet.example"]  # asked once, not once per retry
    assert spy.sleeps == []  # and no retry back-off waited for


@pytest.mark.asyncio
async def test_environment_proxies_do_not_bypass_the_guard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Were the proxy used, the request would go to 127.0.0.1:9 and fail another way.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    spy = SpyBackend()
    async with _client(spy=spy, trust_env=True) as client:
        with pytest.raises(UnsafeConnectError):
            await client.get("http://10.0.0.1/")
    assert spy.calls == []


@pytest.mark.asyncio
async def test_loopback_refused_without_allow_list(port: int) -> None:
    spy = SpyBackend()
    async with _client(spy=spy) as client:
        with pytest.raises(UnsafeConnectError):
            await client.get(f"http://127.0.0.1:{port}/")
    assert spy.calls == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "entry", ["127.0.0.0/8", "127.0.0.1", "127.0.0.1:{port}", "localhost", "localhost:{port}"]
)
async def test_allow_list_reaches_loopback(port: int, entry: str) -> None:
    spy, dns = SpyBackend(), FakeDNS({"localhost": ["127.0.0.1"]})
    allow = [entry.format(port=port)]
    async with _client(allow, spy=spy, dns=dns) as client:
        response = await client.get(f"http://localhost:{port}/")
    assert response.status_code == 200
    assert response.text == f"ok host=localhost:{port}"
    assert spy.calls == [("127.0.0.1", port)]


@pytest.mark.asyncio
@pytest.mark.parametrize("entry", ["127.0.0.1:{port}", "localhost:{port}"])
async def test_allow_list_port_restricts(port: int, entry: str) -> None:
    spy, dns = SpyBackend(), FakeDNS({"localhost": ["127.0.0.1"]})
    other = _other_port(port)
    async with _client([entry.format(port=port)], spy=spy, dns=dns) as client:
        assert (await client.get(f"http://localhost:{port}/")).status_code == 200
        with pytest.raises(UnsafeConnectError):
            await client.get(f"http://localhost:{other}/")
        with pytest.raises(UnsafeConnectError):
            await client.get(f"http://127.0.0.1:{other}/")
    assert spy.calls == [("127.0.0.1", port)]


@pytest.mark.asyncio
async def test_resolve_map_keeps_the_host_header(port: int) -> None:
    spy, dns = SpyBackend(), FakeDNS()
    resolve = {"fake.bench.test": ["127.0.0.1"]}
    async with _client(["127.0.0.0/8"], spy=spy, dns=dns, resolve=resolve) as client:
        response = await client.get(f"http://fake.bench.test:{port}/")
    assert response.text == f"ok host=fake.bench.test:{port}"
    assert spy.calls == [("127.0.0.1", port)]
    assert dns.queries == []  # the map is consulted before DNS

    spy = SpyBackend()
    async with _client(["*.bench.test"], spy=spy, dns=dns, resolve=resolve) as client:
        response = await client.get(f"http://fake.bench.test:{port}/")
    assert response.status_code == 200

    spy = SpyBackend()  # mapped to loopback, yet not allow-listed: refused
    async with _client([], spy=spy, dns=dns, resolve=resolve) as client:
        with pytest.raises(UnsafeConnectError):
            await client.get(f"http://fake.bench.test:{port}/")
    assert spy.calls == []


@pytest.mark.asyncio
async def test_next_address_tried_when_a_connection_fails(port: int) -> None:
    # Nothing listens on 127.0.0.2 (the server is bound to 127.0.0.1): refused, then next.
    spy, dns = SpyBackend(), FakeDNS({"multi.test": ["127.0.0.2", "127.0.0.1"]})
    async with _client(["127.0.0.0/8"], spy=spy, dns=dns) as client:
        response = await client.get(f"http://multi.test:{port}/")
    assert response.status_code == 200
    assert spy.calls == [("127.0.0.2", port), ("127.0.0.1", port)]


@pytest.mark.asyncio
async def test_redirect_to_private_literal_refused(port: int) -> None:
    spy, dns = SpyBackend(), FakeDNS()
    async with _client(["127.0.0.1"], spy=spy, dns=dns) as client:
        with pytest.raises(UnsafeConnectError) as caught:
            await client.get(
                f"http://127.0.0.1:{port}/redirect?to=http://10.0.0.1/", follow_redirects=True
            )
    assert caught.value.url == "http://10.0.0.1/"
    assert spy.calls == [("127.0.0.1", port)]
    assert all(host != "10.0.0.1" for host, _ in spy.calls)
    assert dns.queries == []


@pytest.mark.asyncio
async def test_redirect_to_name_resolving_private_refused(port: int) -> None:
    spy, dns = SpyBackend(), FakeDNS({"intranet.example": ["10.0.0.1"]})
    async with _client(["127.0.0.1"], spy=spy, dns=dns) as client:
        with pytest.raises(UnsafeConnectError) as caught:
            await client.get(
                f"http://127.0.0.1:{port}/redirect?to=http://intranet.example/admin",
                follow_redirects=True,
            )
    assert caught.value.url == "http://intranet.example/admin"
    assert dns.queries == ["intranet.example"]
    assert spy.calls == [("127.0.0.1", port)]


@pytest.mark.asyncio
async def test_tls_verifies_the_original_host_name(port: int) -> None:
    # The guard dials the IP literal; httpcore must still give TLS the URL's host name.
    spy = SpyBackend()
    resolve = {"secure.bench.test": ["127.0.0.1"]}
    async with _client(["127.0.0.1"], spy=spy, resolve=resolve) as client:
        with pytest.raises(httpx.ConnectError, match="before the TLS handshake"):
            await client.get(f"https://secure.bench.test:{port}/")
    assert spy.calls == [("127.0.0.1", port)]
    assert spy.tls_names == ["secure.bench.test"]


# --- the backend on its own ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_backend_refuses_unix_sockets() -> None:
    with pytest.raises(UnsafeURLError):
        await GuardedBackend(Allowlist.parse(["127.0.0.0/8"])).connect_unix_socket("/tmp/s")


@pytest.mark.asyncio
async def test_backend_addresses() -> None:
    dns = FakeDNS({"news.example": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]})
    backend = GuardedBackend(resolver=dns, inner=SpyBackend())
    assert await backend.addresses("news.example", 443) == [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    ]
    assert await backend.addresses("0x5d.0xb8.0xd7.0x0e", 80) == ["93.184.215.14"]
    assert dns.queries == ["news.example"]  # literals are never sent to DNS
    with pytest.raises(UnsafeURLError):
        await backend.addresses("2130706433", 80)


def test_resolve_map_rejects_non_addresses() -> None:
    with pytest.raises(ValueError):
        GuardedBackend(resolve={"fake.bench.test": ["localhost"]})


@pytest.mark.asyncio
async def test_system_resolver_on_a_literal() -> None:
    # A numeric host is answered without any lookup.
    assert await system_resolver("127.0.0.1", 80) == ["127.0.0.1"]
