"""Response bodies decoded under a size limit: a gzip or brotli bomb stops at the limit."""

from __future__ import annotations

import zlib

import brotli


class BodyTooLarge(Exception):
    """The (decoded) body went past the limit."""


class UnsupportedEncoding(Exception):
    pass


class BoundedDecoder:
    """Incremental Content-Encoding decoder that never holds more than `limit` bytes.

    httpx decodes whole network chunks at once, so one 64 KiB chunk of a gzip bomb can
    inflate to tens of megabytes before a caller sees it; here inflation is capped.
    """

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._parts: list[bytes] = []
        encoding = (content_encoding or "identity").strip().lower()
        self._encoding = encoding
        if encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = None  # zlib-wrapped or raw: decided on the first bytes
        elif encoding == "br":
            self._brotli = brotli.Decompressor()
        elif encoding not in ("identity", ""):
            raise UnsupportedEncoding(encoding)

    def feed(self, data: bytes) -> None:
        if self._encoding in ("identity", ""):
            self._keep(data)
        elif self._encoding == "br":
            self._feed_brotli(data)
        else:
            if self._encoding == "deflate" and self._zlib is None:
                # RFC says zlib-wrapped; many servers send raw deflate.
                raw = not data or (data[0] & 0x0F) != 8
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
            self._feed_zlib(data)

    def _feed_zlib(self, data: bytes) -> None:
        assert self._zlib is not None
        while data:
            out = self._zlib.decompress(data, self.limit - self.size + 1)
            self._keep(out)
            data = self._zlib.unconsumed_tail
            if self._zlib.eof:
                data = self._zlib.unused_data
                if self._encoding == "deflate" or not data.strip(b"\x00"):
                    break
                # A gzip body may hold several members (concatenated .gz files), all of
                # which are the body: the next one starts where this one ended.
                self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def _feed_brotli(self, data: bytes) -> None:
        room = self.limit - self.size + 1
        self._keep(self._brotli.process(data, output_buffer_limit=room))
        while not self._brotli.can_accept_more_data():
            room = self.limit - self.size + 1
            self._keep(self._brotli.process(b"", output_buffer_limit=room))

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise BodyTooLarge(self.size)
        if data:
            self._parts.append(data)

    def content(self) -> bytes:
        return b"".join(self._parts)
