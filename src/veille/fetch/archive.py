"""Evidence and replay: every response fetched goes to rotating WARC files, and a run can
be answered from such files instead of the network.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from veille.i18n import _

# The body is stored decoded, so these no longer describe it.
_DROPPED_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


class WarcArchive:
    """Appends request/response record pairs to `folder/veille-<time>-<n>.warc.gz`,
    starting a new file when the current one passes `max_file_bytes`."""

    def __init__(self, folder: Path, max_file_bytes: int = 512 * 1024 * 1024) -> None:
        self.folder = folder
        self.max_file_bytes = max_file_bytes
        self._stream: io.BufferedWriter | None = None
        self._writer: WARCWriter | None = None
        self._count = 0
        self.paths: list[Path] = []

    def _current(self) -> WARCWriter:
        if self._stream is not None and self._stream.tell() > self.max_file_bytes:
            self.close()
        if self._writer is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
            self._count += 1
            path = self.folder / f"veille-{stamp}-{self._count:05d}.warc.gz"
            self._stream = path.open("ab")
            self._writer = WARCWriter(self._stream, gzip=True)
            self.paths.append(path)
        return self._writer

    def record(self, request: httpx.Request, response: httpx.Response, body: bytes) -> None:
        writer = self._current()
        url = str(request.url)
        target = request.url.raw_path.decode("ascii", "replace")
        request_headers = StatusAndHeaders(
            f"GET {target} HTTP/1.1", list(request.headers.items()), is_http_request=True
        )
        writer.write_record(writer.create_warc_record(url, "request", http_headers=request_headers))
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _DROPPED_HEADERS]
        headers.append(("Content-Length", str(len(body))))
        status = StatusAndHeaders(
            f"{response.status_code} {response.reason_phrase}", headers, protocol="HTTP/1.1"
        )
        writer.write_record(
            writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), length=len(body), http_headers=status
            )
        )
        assert self._stream is not None
        self._stream.flush()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
        self._stream = None
        self._writer = None


class ReplayMiss(httpx.TransportError):
    """The URL is not in the archives being replayed."""


class ArchiveError(ValueError):
    """A file given for replay that cannot be read as a WARC archive; says which and why."""


class WarcReplayTransport(httpx.AsyncBaseTransport):
    """Answers requests from WARC response records; never opens a socket.

    For each URL the last successful (2xx) response wins, else the last one of any status,
    so an archive holding a first fetch and later 304s replays the page.
    """

    def __init__(self, paths: Iterable[Path]) -> None:
        self._responses: dict[str, tuple[int, list[tuple[str, str]], bytes]] = {}
        for path in paths:
            try:
                self._read(path)
            except OSError as exc:
                raise ArchiveError(f"{path} : {exc.strerror or exc}") from exc
            except Exception as exc:  # warcio raises many types on what is no WARC
                raise ArchiveError(
                    _("{path}: not a readable WARC archive ({error})", path=path, error=exc)
                ) from exc

    def _read(self, path: Path) -> None:
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                status = int(record.http_headers.get_statuscode() or 0)
                body = record.content_stream().read()
                known = self._responses.get(url)
                if known is None or 200 <= status < 300 or not 200 <= known[0] < 300:
                    self._responses[url] = (status, record.http_headers.headers, body)

    def __len__(self) -> int:
        return len(self._responses)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        found = self._responses.get(str(request.url))
        if found is None:
            raise ReplayMiss(_("absent from the replayed archives"), request=request)
        status, headers, body = found
        # A stream, not `content=`: the fetcher reads raw bytes as from the network.
        return httpx.Response(
            status, headers=headers, stream=httpx.ByteStream(body), request=request
        )
