"""SSRF protection: the fetcher only reaches public addresses unless fetch.allow says otherwise.

Feeds, newsletters and redirects are written by strangers, so any URL may point at the
machine itself, the office network or the cloud metadata service (169.254.169.254). Two
layers refuse those:

- `check_url` looks at the URL alone: http/https only, and a literal IP host (including the
  decimal, octal and hex IPv4 spellings browsers and curl accept) must be public.
- `GuardedBackend`, the network backend under httpx's connection pool, resolves every host
  itself, refuses unless every address is public or allow-listed, and connects to the checked
  IP literal, so DNS rebinding cannot swap the address between the check and the connect.
  Every redirect hop goes through it too.

Use it as::

    transport = guarded_transport(Allowlist.parse(config_entries))
    async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
        try:
            response = await client.get(url, follow_redirects=True)
        except UnsafeURLError as exc:  # also an httpx.ConnectError when raised by the transport
            log(exc.url, exc.reason)

Proxies bypass the guard (the proxy, not the target, would be checked), so the transport takes
no proxy: give the client `transport=` (httpx 0.28 then ignores environment proxies) and
`trust_env=False`, and never `proxy=` or `mounts=`.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import unquote

import anyio
import httpcore
import httpx

from veille.i18n import _

__all__ = [
    "Allowlist",
    "GuardedBackend",
    "GuardedSyncTransport",
    "GuardedTransport",
    "Resolver",
    "UnsafeConnectError",
    "UnsafeURLError",
    "check_url",
    "checked_addresses",
    "connect_checked",
    "guarded_transport",
    "is_public",
    "refusal",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class UnsafeURLError(Exception):
    """A URL the fetcher refuses to reach; `reason` is a translated sentence for the user."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(reason)
        self.url = url
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class UnsafeConnectError(UnsafeURLError, httpx.ConnectError):
    """The refusal as raised by `GuardedTransport`: both an UnsafeURLError and an httpx error.

    Code that handles every `httpx.HTTPError` as "fetch failed" keeps working, and code that
    wants to tell refusals apart catches `UnsafeURLError`.
    """

    def __init__(self, url: str, reason: str, *, request: httpx.Request | None = None) -> None:
        httpx.ConnectError.__init__(self, reason, request=request)
        self.url = url
        self.reason = reason


def refusal(exc: BaseException | None) -> UnsafeURLError | None:
    """The UnsafeURLError behind `exc` (itself, or in its cause/context chain), else None."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, UnsafeURLError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


# --- which addresses are public -------------------------------------------------------------

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# Checked in order, so the most telling name wins (the metadata address before link-local).
# Explicit lists rather than ipaddress.is_global alone: its answers change between Python
# releases and miss multicast, 192.88.99.0/24 and the IPv4 embedded in NAT64 addresses.
_V4_KINDS: tuple[tuple[_V4, str], ...] = (
    (_V4("0.0.0.0/8"), "unspecified"),  # "this network": 0.0.0.0 connects to the local machine
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.169.254/32"), "metadata"),
    (_V4("169.254.0.0/16"), "link-local"),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("100.64.0.0/10"), "shared"),  # carrier-grade NAT, also Alibaba's metadata service
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("192.0.0.0/24"), "reserved"),  # IETF protocol assignments
    (_V4("192.0.2.0/24"), "reserved"),  # documentation
    (_V4("192.88.99.0/24"), "reserved"),  # former 6to4 relay anycast
    (_V4("198.18.0.0/15"), "reserved"),  # benchmarking
    (_V4("198.51.100.0/24"), "reserved"),  # documentation
    (_V4("203.0.113.0/24"), "reserved"),  # documentation
    (_V4("240.0.0.0/4"), "reserved"),  # future use, and the 255.255.255.255 broadcast
)

_V6_KINDS: tuple[tuple[_V6, str], ...] = (
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("fd00:ec2::254/128"), "metadata"),  # AWS instance metadata over IPv6
    (_V6("fe80::/10"), "link-local"),
    (_V6("fc00::/7"), "private"),  # unique local addresses
    (_V6("fec0::/10"), "private"),  # deprecated site-local
    (_V6("ff00::/8"), "multicast"),
    (_V6("2001::/23"), "reserved"),  # IETF protocol assignments, Teredo
    (_V6("2001:db8::/32"), "reserved"),  # documentation
    (_V6("3fff::/20"), "reserved"),  # documentation (RFC 9637)
)

_GLOBAL_UNICAST = _V6("2000::/3")  # every public IPv6 address is allocated from here
_NAT64 = _V6("64:ff9b::/96")  # well-known NAT64 prefix: the last 32 bits are the IPv4 target


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64, 6to4), else None."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _address(ip: str | IPAddress) -> IPAddress:
    return ip if isinstance(ip, IPAddress) else ipaddress.ip_address(ip)


def _classify(ip: IPAddress) -> str | None:
    """Why `ip` is not public ("private", "loopback", ...), or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return _classify(embedded)
        for network, kind in _V6_KINDS:
            if ip in network:
                return kind
        if ip not in _GLOBAL_UNICAST or not ip.is_global:
            return "reserved"
        return None
    for network, kind in _V4_KINDS:
        if ip in network:
            return kind
    return None if ip.is_global else "reserved"


def is_public(ip: str | IPAddress) -> bool:
    """Whether `ip` is a globally reachable unicast address (IPv4 inside IPv6 forms unwrapped)."""
    return _classify(_address(ip)) is None


def _kind_label(kind: str) -> str:
    # One literal call per kind so the catalogue test sees every message id.
    if kind == "loopback":
        return _("a loopback address")
    if kind == "private":
        return _("a private address")
    if kind == "link-local":
        return _("a link-local address")
    if kind == "metadata":
        return _("the cloud metadata address")
    if kind == "shared":
        return _("a shared address (carrier-grade NAT)")
    if kind == "multicast":
        return _("a multicast address")
    if kind == "unspecified":
        return _("the unspecified address")
    return _("a reserved address")


# --- host literals, spelled the way browsers and curl read them ------------------------------

_DECIMAL = re.compile(r"[0-9]+")
_OCTAL = re.compile(r"0[0-7]*")
_HEX = re.compile(r"0[xX][0-9a-fA-F]*")


def _ipv4_number(part: str) -> int | None:
    # WHATWG URL "IPv4 number parser": 0x.. is hex, a leading 0 is octal. Regexes rather
    # than int() alone, which would also take "1_0" and non-ASCII digits.
    if _HEX.fullmatch(part):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and _OCTAL.fullmatch(part):
        return int(part, 8)
    if _DECIMAL.fullmatch(part) and not (len(part) > 1 and part.startswith("0")):
        return int(part)
    return None


def _whatwg_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """`host` as an IPv4 address the way browsers read it ("0x7f.1", "2130706433").

    None when the host is a name; ValueError when it ends in a number yet is no valid
    address ("example.123", "1.2.3.999"), which browsers reject as an invalid URL.
    """
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # one trailing dot is allowed: "127.0.0.1."
    last = parts[-1]
    if not (_DECIMAL.fullmatch(last) or _HEX.fullmatch(last)):
        return None
    parsed = [_ipv4_number(part) for part in parts]
    numbers = [number for number in parsed if number is not None]
    if len(parts) > 4 or len(numbers) < len(parsed):
        raise ValueError(host)
    head, tail = numbers[:-1], numbers[-1]
    if any(number > 255 for number in head) or tail >= 256 ** (5 - len(numbers)):
        raise ValueError(host)
    value = tail
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _literal_address(host: str) -> IPAddress | None:
    """The IP address a URL host spells, or None for a host name; ValueError when malformed."""
    host = unquote(host).strip("[]")  # browsers percent-decode the host before parsing it
    if ":" in host:
        return ipaddress.IPv6Address(host)
    return _whatwg_ipv4(host)


def _normalise_host(host: str) -> str:
    return unquote(host).strip("[]").lower().rstrip(".")


def _port_ok(entry_port: int | None, port: int | None) -> bool:
    return entry_port is None or entry_port == port


def _version_match(ip: IPAddress, network: IPNetwork) -> bool:
    # ipaddress does not compare versions in `in`: IPv4Address("0.0.0.1") in
    # IPv6Network("::/96") is True.
    return ip.version == network.version and ip in network


# --- allow-list ------------------------------------------------------------------------------

_HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*")
_BRACKETED = re.compile(r"\[([^\]]+)\](?::([0-9]+))?")


class _InvalidEntry(ValueError):
    """An allow-list entry that is no host, domain, address or network."""


def _invalid_entry(entry: str) -> ValueError:
    return _InvalidEntry(entry)


def _split_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):  # [::1]:8080, [fd00::/8]
        match = _BRACKETED.fullmatch(entry)
        if not match:
            raise _invalid_entry(entry)
        target, port_text = match.group(1), match.group(2)
    elif entry.count(":") == 1:  # host:port or 127.0.0.1:8080 (a bare IPv6 has 2+ colons)
        target, _sep, port_text = entry.partition(":")
    else:
        target, port_text = entry, None
    if port_text is None:
        return target, None
    if not _DECIMAL.fullmatch(port_text) or not 0 < int(port_text) < 65536:
        raise _invalid_entry(entry)
    return target, int(port_text)


def _ascii_host(name: str, entry: str) -> str:
    # Encode names the way httpx does (IDNA), so they compare with the host it connects to.
    try:
        encoded = httpx.URL(f"http://{name}/").raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError):
        raise _invalid_entry(entry) from None
    if not _HOST_NAME.fullmatch(encoded):
        raise _invalid_entry(entry)
    return encoded


@dataclass(frozen=True)
class Allowlist:
    """Hosts, networks and ports the fetcher may reach even though they are not public.

    Entries: `intranet.example` (that host), `*.example.org` (its subdomains, not
    example.org itself), `10.1.2.3`, `::1`, `127.0.0.0/8`, `fd00::/8`; any of them may end
    with `:port` (`127.0.0.1:8080`, `[::1]:8080`) to permit that port only.
    """

    hosts: frozenset[tuple[str, int | None]] = frozenset()
    suffixes: tuple[tuple[str, int | None], ...] = ()  # (".example.org", port)
    networks: tuple[tuple[IPNetwork, int | None], ...] = ()
    setting: str = "fetch.allow"  # where the user adds an entry, named in refusals

    @classmethod
    def parse(cls, entries: Iterable[str], setting: str = "fetch.allow") -> Allowlist:
        hosts: set[tuple[str, int | None]] = set()
        suffixes: list[tuple[str, int | None]] = []
        networks: list[tuple[IPNetwork, int | None]] = []
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            try:
                target, port = _split_port(entry)
                try:
                    networks.append((ipaddress.ip_network(target, strict=False), port))
                    continue
                except ValueError:
                    pass
                name = target.lower().rstrip(".")
                if name.startswith("*."):
                    suffixes.append(("." + _ascii_host(name[2:], entry), port))
                else:
                    hosts.add((_ascii_host(name, entry), port))
            except _InvalidEntry:
                raise ValueError(
                    _(
                        "invalid {setting} entry '{entry}': expected a host name, *.domain, "
                        "IP address or network, optionally followed by :port",
                        setting=setting,
                        entry=entry,
                    )
                ) from None
        return cls(frozenset(hosts), tuple(suffixes), tuple(networks), setting)

    def allows_host(self, host: str, port: int | None = None) -> bool:
        """Whether `host` (a name, or an IP literal) is allow-listed on `port`."""
        name = _normalise_host(host)
        try:
            ip = _literal_address(name)
        except ValueError:
            return False
        if ip is not None:
            return self.allows_ip(ip, port)
        if any(entry == name and _port_ok(p, port) for entry, p in self.hosts):
            return True
        return any(name.endswith(suffix) and _port_ok(p, port) for suffix, p in self.suffixes)

    def allows_ip(self, ip: str | IPAddress, port: int | None = None) -> bool:
        """Whether `ip` (or the IPv4 address inside an IPv6 form) is allow-listed on `port`."""
        address = _address(ip)
        candidates: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address):
            embedded = _embedded_ipv4(address)
            if embedded is not None:
                candidates.append(embedded)
        return any(
            _version_match(candidate, network) and _port_ok(p, port)
            for candidate in candidates
            for network, p in self.networks
        )


# --- the URL check ---------------------------------------------------------------------------


def _display(address: IPAddress) -> str:
    """The address as written, with the IPv4 inside an IPv6 form: "::ffff:a00:1 (10.0.0.1)"."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return f"{address} ({embedded})"
    return str(address)


def _refused(
    url: str, ip: IPAddress, host: str | None, setting: str = "fetch.allow"
) -> UnsafeURLError:
    kind = _kind_label(_classify(ip) or "reserved")
    address = _display(ip)
    if host is None:
        reason = _(
            "{address} is {kind}: refused (add it to {setting} to permit it)",
            address=address,
            kind=kind,
            setting=setting,
        )
    else:
        reason = _(
            "host {host} resolves to {address}, {kind}: refused (add the host or the address "
            "to {setting} to permit it)",
            host=host,
            address=address,
            kind=kind,
            setting=setting,
        )
    return UnsafeURLError(url, reason)


def _invalid_ipv4(url: str, host: str) -> UnsafeURLError:
    return UnsafeURLError(
        url, _("host {host} looks like an IP address but is not a valid one", host=host)
    )


def check_url(url: str | httpx.URL, *, allow: Allowlist | None = None) -> None:
    """Raise UnsafeURLError unless `url` is http(s) with a host that may be public.

    Only literal IP hosts are judged here; host names are resolved and checked at connect
    time by GuardedBackend. The URL is parsed by httpx, the parser the client itself uses,
    so what is checked is what gets fetched (userinfo tricks like `http://a@10.0.0.1/` end
    up with 10.0.0.1 as the host, as they should).
    """
    text = str(url)
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UnsafeURLError(text, _("invalid URL: {error}", error=exc)) from None
    if parsed.scheme not in _DEFAULT_PORTS:
        raise UnsafeURLError(
            text,
            _(
                "unsupported scheme '{scheme}': only http and https are fetched",
                scheme=parsed.scheme,
            ),
        )
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise UnsafeURLError(text, _("URL without a host"))
    port = parsed.port or _DEFAULT_PORTS[parsed.scheme]
    try:
        address = _literal_address(host)
    except ValueError:
        raise _invalid_ipv4(text, host) from None
    if address is None or is_public(address):
        return
    if allow is not None and (allow.allows_ip(address, port) or allow.allows_host(host, port)):
        return
    raise _refused(text, address, None, allow.setting if allow is not None else "fetch.allow")


# --- the network backend ---------------------------------------------------------------------


async def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver, in its preference order, no repeats."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _parse_resolve(resolve: Mapping[str, Sequence[str]] | None) -> dict[str, list[IPAddress]]:
    parsed: dict[str, list[IPAddress]] = {}
    for host, addresses in (resolve or {}).items():
        # A typo here should fail loudly at start-up, not as a DNS lookup of the fake name.
        parsed[_normalise_host(host)] = [ipaddress.ip_address(a) for a in addresses]
    return parsed


class _Attempts:
    """A host's judged addresses tried one after another, by the async and the blocking
    connections alike: each try runs in `with attempts:`, which keeps a failure of the
    kinds given and lets the next address be tried; `failure()`, the last one kept, is
    raised when no address connected."""

    def __init__(self, *kinds: type[Exception]) -> None:
        self.kinds = kinds
        self.last: Exception | None = None

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if isinstance(error, self.kinds):
            self.last = error
            return True
        return False

    def failure(self) -> Exception:
        assert self.last is not None  # the judged addresses are never an empty list
        return self.last


def _tcp_options(
    timeout: float | None, local_address: str | None, socket_options: Iterable[Any] | None
) -> dict[str, Any]:
    """httpcore's connect_tcp keyword arguments, the same for each address tried (socket
    options may come as a one-pass iterable, so they are listed once)."""
    options = list(socket_options) if socket_options is not None else None
    return {"timeout": timeout, "local_address": local_address, "socket_options": options}


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that only opens TCP connections to permitted addresses.

    `connect_tcp` resolves the host (the `resolve` map first, like curl's --resolve, then
    `resolver`), refuses with UnsafeURLError if ANY answer is neither public nor allow-listed
    (a name answering both a public and a private address is the DNS-rebinding pattern, and
    refusing it whole also stops a fallback onto the private one), then connects to the IP
    literals in order, trying the next one when a connection fails. TLS still verifies the
    original host name: httpcore passes it as server_hostname to start_tls after connect_tcp.
    """

    def __init__(
        self,
        allow: Allowlist | None = None,
        *,
        resolve: Mapping[str, Sequence[str]] | None = None,
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.allow = allow if allow is not None else Allowlist()
        self.resolve = _parse_resolve(resolve)
        self.resolver = resolver if resolver is not None else system_resolver
        self.inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def addresses(self, host: str, port: int, timeout: float | None = None) -> list[str]:
        """The IP literals to connect to for host:port, or UnsafeURLError / ConnectError."""
        literal, name = _host_literal(host, port)
        if literal is not None:
            answers: list[IPAddress] = [literal]
        elif name in self.resolve:
            answers = self.resolve[name]
        else:
            answers = [ipaddress.ip_address(a) for a in await self._lookup(name, port, timeout)]
        return _judged(host, port, literal, answers, self.allow)

    async def _lookup(self, name: str, port: int, timeout: float | None) -> list[str]:
        try:
            with anyio.fail_after(timeout):
                return await self.resolver(name, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(
                _("cannot resolve host {host}: timed out", host=name)
            ) from exc
        except OSError as exc:
            raise httpcore.ConnectError(
                _("cannot resolve host {host}: {error}", host=name, error=exc)
            ) from exc

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        # Each attempt gets the full connect timeout, as httpcore gives one connect_tcp call.
        options = _tcp_options(timeout, local_address, socket_options)
        attempts = _Attempts(httpcore.ConnectError, httpcore.ConnectTimeout)
        for address in await self.addresses(host, port, timeout):
            with attempts:
                return await self.inner.connect_tcp(address, port, **options)
        raise attempts.failure()

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeURLError(path, _("local (Unix socket) connections are refused"))

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


# --- the httpx transport ---------------------------------------------------------------------


_DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's own


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx.AsyncHTTPTransport whose connections all go through a GuardedBackend.

    httpx 0.28 has no parameter for the pool's network backend, and AsyncHTTPTransport only
    keeps its httpcore pool in `self._pool` (every other method just delegates to it). So
    __init__ lets httpx validate the options and build its pool, then swaps in a pool built
    with the same options plus `network_backend`. Subclassing rather than patching an
    instance keeps the replacement in one place, and adds the per-request URL check. No
    `proxy` and no `uds`: both would route around the guard.
    """

    def __init__(
        self,
        allow: Allowlist | None = None,
        *,
        resolve: Mapping[str, Sequence[str]] | None = None,
        resolver: Resolver | None = None,
        backend: httpcore.AsyncNetworkBackend | None = None,
        verify: ssl.SSLContext | str | bool = True,
        trust_env: bool = True,
        http1: bool = True,
        http2: bool = True,
        limits: httpx.Limits = _DEFAULT_LIMITS,
        local_address: str | None = None,
        retries: int = 0,
        socket_options: Iterable[Any] | None = None,
    ) -> None:
        socket_options = list(socket_options) if socket_options is not None else None
        # One SSL context for both pools (loading the CA bundle twice costs milliseconds).
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=trust_env)
        super().__init__(
            verify=ssl_context,
            trust_env=trust_env,
            http1=http1,
            http2=http2,
            limits=limits,
            local_address=local_address,
            retries=retries,
            socket_options=socket_options,
        )
        self.allow = allow if allow is not None else Allowlist()
        self.backend = GuardedBackend(self.allow, resolve=resolve, resolver=resolver, inner=backend)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=http1,
            http2=http2,
            local_address=local_address,
            retries=retries,
            socket_options=socket_options,
            network_backend=self.backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            check_url(request.url, allow=self.allow)
            return await super().handle_async_request(request)
        except UnsafeURLError as exc:
            # The backend raises UnsafeURLError, not an httpcore error: httpcore would retry
            # a ConnectError `retries` times, and the backend only knows host:port.
            raise UnsafeConnectError(str(request.url), exc.reason, request=request) from exc


def guarded_transport(
    allow: Allowlist,
    *,
    http2: bool = True,
    resolve: dict[str, list[str]] | None = None,
    resolver: Resolver | None = None,
    **kwargs: Any,
) -> GuardedTransport:
    """The transport for every fetch: give it to httpx.AsyncClient with trust_env=False.

    `resolve` maps host names to addresses before DNS (tests and benchmarks map fake names
    to 127.0.0.1, which must still be allow-listed). Other keyword arguments are those of
    httpx.AsyncHTTPTransport except `proxy` and `uds`, plus `backend` (the inner network
    backend, httpcore.AnyIOBackend by default).
    """
    return GuardedTransport(allow, http2=http2, resolve=resolve, resolver=resolver, **kwargs)


def _host_literal(host: str, port: int) -> tuple[IPAddress | None, str]:
    """The IP literal `host` spells (None for a name) and its normalised form."""
    try:
        return _literal_address(host), _normalise_host(host)
    except ValueError:
        raise _invalid_ipv4(f"{host}:{port}", host) from None


def _judged(
    host: str, port: int, literal: IPAddress | None, answers: list[IPAddress], allow: Allowlist
) -> list[str]:
    """The addresses to connect to, once every one is public or allow-listed; an allow-listed
    host name may resolve anywhere. UnsafeURLError otherwise (ConnectError: no address)."""
    if not answers:
        raise httpcore.ConnectError(_("host {host} has no address", host=host))
    if literal is None and allow.allows_host(_normalise_host(host), port):
        return [str(a) for a in answers]
    for address in answers:
        if not is_public(address) and not allow.allows_ip(address, port):
            # GuardedTransport replaces host:port with the request's URL.
            raise _refused(
                f"{host}:{port}", address, None if literal is not None else host, allow.setting
            )
    return [str(a) for a in answers]


def checked_addresses(
    host: str, port: int, allow: Allowlist, timeout: float | None = None
) -> list[str]:
    """The guard for blocking clients (SMTP, the delivery of digests): the host's addresses
    from the system resolver, each judged as GuardedBackend judges them. Connect to the
    literals returned, never to the name again, so a second answer cannot swap them."""
    literal, name = _host_literal(host, port)
    if literal is not None:
        return _judged(host, port, literal, [literal], allow)
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise httpcore.ConnectError(
            _("cannot resolve host {host}: {error}", host=name, error=exc)
        ) from exc
    answers = [ipaddress.ip_address(str(i[4][0]).split("%")[0]) for i in infos]
    return _judged(host, port, None, list(dict.fromkeys(answers)), allow)


def connect_checked(
    host: str, port: int, allow: Allowlist, timeout: float | None = None
) -> socket.socket:
    """A TCP connection to host:port through `checked_addresses`, trying each in turn."""
    attempts = _Attempts(OSError)
    for address in checked_addresses(host, port, allow, timeout):
        with attempts:
            return socket.create_connection((address, port), timeout)
    raise attempts.failure()


class GuardedSyncBackend(httpcore.NetworkBackend):
    """The blocking twin of GuardedBackend, for httpx.Client: the same judgement of every
    address, through `checked_addresses`."""

    def __init__(self, allow: Allowlist | None = None) -> None:
        self.allow = allow if allow is not None else Allowlist()
        self.inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        options = _tcp_options(timeout, local_address, socket_options)
        attempts = _Attempts(httpcore.ConnectError, httpcore.ConnectTimeout)
        for address in checked_addresses(host, port, self.allow, timeout):
            with attempts:
                return self.inner.connect_tcp(address, port, **options)
        raise attempts.failure()

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise UnsafeURLError(path, _("local (Unix socket) connections are refused"))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class GuardedSyncTransport(httpx.HTTPTransport):
    """httpx.HTTPTransport whose connections go through GuardedSyncBackend (see
    GuardedTransport for why the pool is swapped); no proxy, no Unix socket."""

    def __init__(self, allow: Allowlist | None = None) -> None:
        ssl_context = httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False)
        self.allow = allow if allow is not None else Allowlist()
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=_DEFAULT_LIMITS.max_connections,
            max_keepalive_connections=_DEFAULT_LIMITS.max_keepalive_connections,
            keepalive_expiry=_DEFAULT_LIMITS.keepalive_expiry,
            network_backend=GuardedSyncBackend(self.allow),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            check_url(request.url, allow=self.allow)
            return super().handle_request(request)
        except UnsafeURLError as exc:
            raise UnsafeConnectError(str(request.url), exc.reason, request=request) from exc
