"""Local inputs: files and folders, each file read by what it contains."""

from __future__ import annotations

import errno
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from veille.config import Settings
from veille.encoding import UndecodableError, as_utf8, decode
from veille.i18n import _
from veille.model import Failure, RawDocument, Skip
from veille.sources.common import gunzip
from veille.sources.discover import looks_like_feed
from veille.sources.feed import read_feed
from veille.sources.jsonl import read_jsonl
from veille.sources.sniff import Kind, binary_kind, sniff
from veille.sources.textdump import NotAnArticle, check_is_article, split_dump
from veille.sources.warc import read_warc

Item = RawDocument | Failure | Skip


def read_path(path: Path, settings: Settings) -> Iterator[Item]:
    """Every document under `path` (a file or a folder), or why it could not be read."""
    source = str(path)
    problem = path_problem(path)
    if problem:
        yield Failure(source, source, "read", problem)
        return
    for file in _walk(path):
        yield from read_file(file, source, settings)


def path_problem(path: Path) -> str | None:
    """Why `path` cannot be read as an input (missing, a symbolic link loop...), or None."""
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _("symbolic link loop")
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return _("no such file or folder")
        return _("cannot read the file: {error}", error=exc.strerror or exc)
    if not (path.is_file() or path.is_dir()):
        return _("not a file or a folder (a device, a pipe...)")
    return None


def count_files(paths: Iterable[Path]) -> int:
    return sum(1 for path in paths if not path_problem(path) for _ in _walk(path))


def _walk(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for child in sorted(path.rglob("*")):
        relative = child.relative_to(path).parts
        if child.is_file() and not any(part.startswith(".") for part in relative):
            yield child


def read_file(path: Path, source: str, settings: Settings) -> Iterator[Item]:
    ref = str(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            head = stream.read(65536)
            if _is_warc(head):
                stream.seek(0)
                yield from read_warc(stream, ref, source, settings.max_bytes)
                return
            if size > settings.max_bytes:
                yield Failure(
                    source,
                    ref,
                    "read",
                    _(
                        "file is {size:,} bytes, over the {limit:,}-byte limit (VEILLE_MAX_BYTES)",
                        size=size,
                        limit=settings.max_bytes,
                    ),
                )
                return
            data = head + stream.read()
    except OSError as exc:
        yield Failure(
            source, ref, "read", _("cannot read the file: {error}", error=exc.strerror or exc)
        )
        return
    yield from read_bytes(data, ref, source, settings)


def _is_warc(head: bytes) -> bool:
    kind = sniff(head)
    if kind is Kind.GZIP:
        try:
            return zlib.decompressobj(31).decompress(head, 16).startswith(b"WARC/")
        except zlib.error:
            return False
    return kind is Kind.WARC


def read_bytes(
    data: bytes, ref: str, source: str, settings: Settings, compressed: bool = False
) -> Iterator[Item]:
    data = as_utf8(data)
    kind = sniff(data[:65536])
    if kind is Kind.GZIP and not compressed:
        try:
            data = gunzip(data, settings.max_bytes)
        except ValueError as exc:
            yield Failure(source, ref, "read", str(exc))
            return
        yield from read_bytes(data, ref, source, settings, compressed=True)
        return
    if kind is Kind.EMPTY:
        yield Failure(source, ref, "read", _("empty file"))
    elif kind in (Kind.BINARY, Kind.GZIP, Kind.WARC):
        what = binary_kind(data) or _("nested compressed data")
        yield Failure(
            source,
            ref,
            "read",
            _("{what}: not HTML, text, JSONL, a feed or a WARC archive", what=what),
        )
    elif kind is Kind.HTML:
        yield RawDocument(ref=ref, kind="html", content=data)
    elif kind is Kind.FEED or (kind is Kind.JSONL and looks_like_feed(data)):
        yield from read_feed(data, ref, source)
    elif kind is Kind.SITEMAP:
        yield Skip(source, ref, _("a sitemap lists pages to fetch: add it as a source to poll it"))
    else:
        try:
            text = decode(data)
        except UndecodableError as exc:
            yield Failure(source, ref, "read", _("undecodable: {error}", error=exc))
            return
        if kind is Kind.JSONL:
            yield from read_jsonl(text, ref, source)
        else:
            yield from _read_text(text, ref, source)


def _read_text(text: str, ref: str, source: str) -> Iterator[Item]:
    published, body = split_dump(text)
    try:
        check_is_article(body)
    except NotAnArticle as exc:
        yield Skip(source, ref, str(exc))
        return
    yield RawDocument(ref=ref, kind="text", content=body, published=published)
