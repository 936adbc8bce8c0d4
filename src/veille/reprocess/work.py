"""What the Spark job's workers do, as plain functions over plain data: read a byte range
of an archive, tell what the store needs of its documents before extraction (their digests
and blocks), extract them with their site's template memory, clean a batch across its
sites' pages and find the entity mentions of its articles. Each calls the single-machine
pipeline's own functions (`read_warc`, `read_file`, `raw_digest`, `for_document`,
`extract_document`, `drop_site_furniture`, `find_mentions`), so the job and `veille ingest`
share every transform.

The job numbers the items of each input as `veille ingest` meets them (files in its order,
records in file order), and cuts them into the same batches: the furniture lines dropped
are those `veille ingest` drops.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from veille.config import Settings
from veille.encoder import article_text, vector_key
from veille.encoder import load as load_encoder
from veille.enrich.entities import Mention, find_mentions
from veille.enrich.stage import NER_CHARACTERS
from veille.enrich.story import entity_text
from veille.extract.stage import drop_site_furniture, extract_document, raw_digest
from veille.extract.template import PageBlocks, SiteTemplate, for_document, view_of
from veille.i18n import _
from veille.model import Article, Failure, RawDocument, Skip
from veille.sources.local import files_under, is_warc, path_problem, read_bytes, read_file
from veille.sources.warc import read_warc, splittable

# What one item of an input becomes on a worker: its article, or why there is none.
Outcome = Article | Failure | Skip
# An item's place: (input, file, remote path, range start), then its rank in the range.
RangeKey = tuple[int, int, str, int]


@dataclass(frozen=True)
class Split:
    """A piece of work: a byte range of an archive, or a whole file."""

    input: int  # which input argument, in the order given
    file: int  # the file's rank among the input's files (`veille ingest`'s order)
    source: str  # the input argument as given: the articles' source
    ref: str  # the file as `veille ingest` names it
    path: str  # where a worker opens it
    start: int = 0
    end: int | None = None
    warc: bool = False  # a byte range of an archive; else the whole file, read by content
    problem: str = ""  # why the input cannot be read, said as `veille ingest` says it

    @property
    def key(self) -> RangeKey:
        return (self.input, self.file, "", self.start)


def plan(inputs: list[tuple[int, Path]], target_bytes: int) -> list[Split]:
    """The splits of local inputs (numbered), in `veille ingest`'s order: an archive that
    can be read in ranges is cut into ranges of about `target_bytes`; any other file is
    one split."""
    splits: list[Split] = []
    for number, path in inputs:
        source = str(path)
        problem = path_problem(path)
        if problem:
            splits.append(Split(number, 0, source, source, source, problem=problem))
            continue
        for rank, file in enumerate(files_under(path)):
            ref, where = str(file), os.path.abspath(file)
            ranges = _ranges(file, target_bytes)
            if ranges is None:
                splits.append(Split(number, rank, source, ref, where))
                continue
            splits.extend(
                Split(number, rank, source, ref, where, start, end, warc=True)
                for start, end in ranges
            )
    return splits


def _ranges(file: Path, target_bytes: int) -> list[tuple[int, int | None]] | None:
    """Byte ranges of an archive readable in ranges; None for any other file."""
    try:
        with file.open("rb") as stream:
            if not is_warc(stream.read(65536)):
                return None
            whole = not splittable(stream)
        size = file.stat().st_size
    except OSError:
        return None  # `read_file` says why, on the worker
    if whole or size <= target_bytes:
        return [(0, None)]
    count = -(-size // target_bytes)
    bounds = [size * i // count for i in range(count)]
    return list(pairwise([*bounds, None]))


def read_split(split: Split, settings: Settings) -> Iterator[RawDocument | Failure | Skip]:
    """The items of one split, as `veille ingest` reads them."""
    if split.problem:
        yield Failure(split.source, split.ref, "read", split.problem)
        return
    if not split.warc:
        yield from read_file(Path(split.path), split.source, settings, ref=split.ref)
        return
    try:
        with open(split.path, "rb") as stream:
            yield from read_warc(
                stream, split.ref, split.source, settings.max_bytes, split.start, split.end
            )
    except OSError as exc:
        yield Failure(
            split.source,
            split.ref,
            "read",
            _("cannot read the file: {error}", error=exc.strerror or exc),
        )


def read_remote(
    source: str, path: str, data: bytes, settings: Settings
) -> Iterator[RawDocument | Failure | Skip]:
    """The items of one file read whole through Spark's filesystems (hdfs://, s3a://...)."""
    if is_warc(data[:65536]):
        yield from read_warc(io.BytesIO(data), path, source, settings.max_bytes)
    else:
        yield from read_bytes(data, path, source, settings)


def examine(item: RawDocument | Failure | Skip) -> tuple[str | None, PageBlocks | None]:
    """What the driver needs of a document before it is extracted: its raw digest (is it
    unchanged?) and its blocks (the template memory learns them); None for a read problem."""
    if not isinstance(item, RawDocument):
        return None, None
    return raw_digest(item), for_document(item)


def extract_item(
    item: RawDocument | Failure | Skip,
    source: str,
    page: PageBlocks | None,
    memory: Mapping[str, SiteTemplate],
) -> Outcome:
    """A document's article (before the cleaning across pages) read with its view of its
    site's memory, or its failure; read problems pass through."""
    if not isinstance(item, RawDocument):
        return item
    found = extract_document((item, source, view_of(page, memory)))
    return Failure(source, item.ref, "extract", found) if isinstance(found, str) else found


# An article's sentence vector for its grouping: (vector key, float32 bytes).
Vector = tuple[str, bytes]


def finish_batch(
    outcomes: list[Outcome],
) -> list[tuple[Outcome, list[Mention] | None, Vector | None]]:
    """One `veille ingest` batch made final: lines repeated across a site's pages dropped,
    then each article's entity mentions (None when it has no text, or no model reads its
    language: the understanding stage finds those itself) and its sentence vector (None
    without an encoder: the grouping then goes without, as it would)."""
    cleaned = iter(drop_site_furniture([o for o in outcomes if isinstance(o, Article)]))
    final = [next(cleaned) if isinstance(o, Article) else o for o in outcomes]
    texts = {
        i: (entity_text(o.title, o.text)[:NER_CHARACTERS], o.language)
        for i, o in enumerate(final)
        if isinstance(o, Article) and o.text.strip()
    }
    found, _skipped = find_mentions(texts)
    vectors = _vectors({i: o for i, o in enumerate(final) if isinstance(o, Article)})
    return [(o, found.get(i), vectors.get(i)) for i, o in enumerate(final)]


def _vectors(articles: dict[int, Article]) -> dict[int, Vector]:
    """The vectors the grouping stage would compute for these articles, each under the
    key of its encoder and text (the grouping checks it against the article stored)."""
    encoder = load_encoder()
    if encoder is None or not articles:
        return {}
    texts = {i: article_text(a.title, a.text) for i, a in articles.items()}
    rows = encoder.encode(list(texts.values()))
    return {
        i: (vector_key(encoder, text), row.astype("<f4").tobytes())
        for (i, text), row in zip(texts.items(), rows, strict=True)
    }
