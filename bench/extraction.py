"""Extraction benchmark: veille vs plain trafilatura on the shared evaluation corpora.

Corpora and metrics follow ``shared/datasets/README.md`` (section ``extraction/``):

* scrapinghub: 4-gram-shingle F1 (scrapinghub/article-extraction-benchmark's
  ``evaluate.py``: per-page P and R, averaged over pages, F1 of the means) and token F1;
* trafilatura-eval: segment F1 over ``with``/``without`` snippets, summed over the corpus,
  overall and on the French pages;
* french (fundus + readability): token F1 vs the gold body, title and date matches, and
  publication instants to the minute where the gold states one with its offset;
* furniture (``tests/data/furniture``, written for veille): fictional French outlets with
  furniture inside the article body; recall of article sentences, precision against the
  furniture strings kept, pages keeping any furniture, titles, days and instants. veille
  runs page by page, and again with each outlet's template memory learned from its other
  pages ("veille+memory").

Honest splits: each shared corpus is cut into ``dev`` and ``test`` by a seeded hash of the
page id (``bench/extraction_split.json``, rebuilt by ``--write-split``, never by looking);
extraction is tuned on ``dev`` and reported on ``test`` (the default). The furniture set's
``dev`` outlets are the tuning ones; its ``test`` is the held-out outlets.

Baselines, measured in the same run: ``trafilatura.extract(html, url=url,
include_comments=False)`` with default settings (txt output), which is how the README
figures were measured (scrapinghub's and trafilatura's own benchmark scripts set
``include_comments=False``), and the same with ``favor_precision=True``. Δ compares veille
with the better of the two on each row. Both get the same raw (gunzipped) bytes and do
their own encoding detection. Speed is veille's pages per second as a ratio to
trafilatura's default mode in the same run.

Data are read at run time from ``<repo>/../shared/datasets/extraction`` (``--shared`` or
``$VEILLE_SHARED`` override the ``shared`` directory) and never copied into the repository.

Usage: ``python bench/extraction.py [--corpus all] [--split test|dev|all] [--limit N]
[--only veille] [--verbose]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import html as htmllib
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

import trafilatura
from lxml import html as lxml_html
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO_ROOT.parent / "shared"
FURNITURE = REPO_ROOT / "tests" / "data" / "furniture"
SPLIT_FILE = Path(__file__).with_name("extraction_split.json")
SPLIT_SEED = "veille-extraction-split-1"
DEV_SHARE = 0.4  # of each corpus's pages; the rest is the test split
CORPORA = ("scrapinghub", "trafilatura-eval", "french")
BASELINE, PRECISION, VEILLE, MEMORY = "trafilatura", "precision", "veille", "veille+memory"
BASELINES = (BASELINE, PRECISION)
WARM_UP = (
    b"<html><head><title>T</title></head><body><article><h1>T</h1>"
    + b"<p>Un paragraphe assez long pour une extraction de texte. </p>" * 5
    + b"</article></body></html>"
)

console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False)


# --------------------------------------------------------------------------- extractors


@dataclass
class Extraction:
    text: str | None
    title: str | None = None
    date: str | None = None  # YYYY-MM-DD, the day the page states
    instant: dt.datetime | None = None  # aware, when the page states a time of day
    error: str | None = None


@dataclass
class Extractor:
    name: str
    run: Callable[..., Extraction]  # (html, url, **context)
    seconds: float = 0.0
    pages: int = 0
    errors: list[str] = field(default_factory=list)

    def __call__(self, html: bytes, url: str | None, **context: Any) -> Extraction:
        start = time.perf_counter()
        try:
            result = self.run(html, url, **context)
        except Exception as exc:
            result = Extraction(None, error=f"{type(exc).__name__}: {exc}")
        self.seconds += time.perf_counter() - start
        self.pages += 1
        if result.error:
            self.errors.append(result.error)
        return result

    def reset(self) -> None:
        self.seconds, self.pages, self.errors = 0.0, 0, []

    @property
    def speed(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def run_trafilatura(html: bytes, url: str | None, **_: Any) -> Extraction:
    # The baseline (see module docstring). Metadata come from trafilatura_metadata(), a
    # second call kept out of the timing.
    return Extraction(trafilatura.extract(html, url=url, include_comments=False))


def run_precision(html: bytes, url: str | None, **_: Any) -> Extraction:
    return Extraction(
        trafilatura.extract(html, url=url, include_comments=False, favor_precision=True)
    )


def trafilatura_metadata(html: bytes, url: str | None) -> tuple[str | None, str | None]:
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    if doc is None:
        return None, None
    return getattr(doc, "title", None), normalise_date(getattr(doc, "date", None))


def load_veille() -> tuple[Any | None, str]:
    """Return the module veille.extract, or (None, reason)."""
    try:
        import veille.extract as extract  # type: ignore[import-not-found]
    except ModuleNotFoundError as exc:
        src = REPO_ROOT / "src"
        if exc.name == "veille" and src.is_dir() and str(src) not in sys.path:
            sys.path.insert(0, str(src))  # not pip-installed: try the src layout
            return load_veille()
        return None, f"{type(exc).__name__}: {exc}"
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return extract, ""


def make_veille_runner(extract: Any) -> Callable[..., Extraction]:
    def run(html: bytes, url: str | None, template: Any = None, **_: Any) -> Extraction:
        options = {"template": template} if template is not None else {}
        res = extract.extract_html(html, url=url, **options)
        if res is None:
            return Extraction(None)
        published = res.published
        timed = isinstance(published, dt.datetime) and published.tzinfo is not None
        return Extraction(
            res.text, res.title, normalise_date(published), published if timed else None
        )

    return run


# --------------------------------------------------------------------------- metrics

WORD_RE = re.compile(r"\w+")


def normalise_date(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):  # datetime is a subclass
        return value.isoformat()[:10]
    m = re.match(r"\s*(\d{4}-\d{2}-\d{2})", str(value))
    return m.group(1) if m else None


def normalise_ws(text: str) -> str:
    return " ".join(text.split())


def normalise_title(title: str | None) -> str:
    return normalise_ws(htmllib.unescape(title or "")).casefold()


def _shingles(text: str, n: int) -> Counter[tuple[str, ...]]:
    tokens = WORD_RE.findall(text)
    return Counter(
        tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n]
    )


def shingle_prf(true: str, pred: str | None, n: int = 4) -> tuple[float, float, float]:
    """Per-page (tp, fp, fn), normalised to sum 1, exactly as article-extraction-benchmark."""
    t, p = _shingles(true, n), _shingles(pred or "", n)
    tp = float(sum((t & p).values()))
    fp = float(sum((p - t).values()))
    fn = float(sum((t - p).values()))
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def shingle_scores(counts: Sequence[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Corpus (P, R, F1): P averaged over pages with a prediction, R over pages with gold."""
    ps = [_precision(*c) for c in counts if c[0] + c[1] > 0]
    rs = [_recall(*c) for c in counts if c[0] + c[2] > 0]
    p, r = (fmean(ps) if ps else 0.0), (fmean(rs) if rs else 0.0)
    return p, r, f1(p, r)


def token_prf(gold: str, pred: str | None) -> tuple[float, float, float]:
    """Per-page (P, R, F1) of the multiset overlap of lower-cased ``\\w+`` tokens."""
    g = Counter(WORD_RE.findall(gold.lower()))
    p = Counter(WORD_RE.findall((pred or "").lower()))
    ng, np_ = sum(g.values()), sum(p.values())
    if not ng and not np_:
        return 1.0, 1.0, 1.0
    common = sum((g & p).values())
    prec = common / np_ if np_ else 0.0
    rec = common / ng if ng else 0.0
    return prec, rec, f1(prec, rec)


def token_scores(prfs: Sequence[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Corpus token (P, R, F1): macro average of the per-page P, R and F1."""
    if not prfs:
        return 0.0, 0.0, 0.0
    return fmean(x[0] for x in prfs), fmean(x[1] for x in prfs), fmean(x[2] for x in prfs)


@dataclass
class SegmentCounts:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0
    missed: list[str] = field(default_factory=list)  # `with` segments not found
    kept: list[str] = field(default_factory=list)  # `without` segments found

    def __iadd__(self, other: SegmentCounts) -> SegmentCounts:
        self.tp += other.tp
        self.fn += other.fn
        self.fp += other.fp
        self.tn += other.tn
        return self

    @property
    def prf(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        return p, r, f1(p, r)

    @property
    def net(self) -> int:
        return self.tp - self.fp


def segment_counts(text: str | None, with_: Sequence[str], without: Sequence[str]) -> SegmentCounts:
    """trafilatura's evaluate_result, with whitespace-normalised substring matching."""
    c = SegmentCounts()
    body = normalise_ws(text) if text is not None else None
    for seg in with_:
        if body is not None and normalise_ws(seg) in body:
            c.tp += 1
        else:
            c.fn += 1
            c.missed.append(seg)
    for seg in without:
        if body is not None and normalise_ws(seg) in body:
            c.fp += 1
            c.kept.append(seg)
        else:
            c.tn += 1
    return c


# French detection for trafilatura-eval (no language field): function words that are
# distinctive among the corpus's main languages, plus elisions (l', d', qu'...).
_STOPWORDS = {
    "fr": "le la les des du un une et est sont été être pour dans que qui qu pas ne sur au aux "
    "avec ce cette ces il elle ils elles nous vous ont plus mais ou où son sa ses leur leurs "
    "très par se en à y était aussi comme tout même autres lui",
    "en": "the and of to in is that for with on was are it this by as be from at have has not "
    "but or which you they we their an will would",
    "de": "der die das und ist nicht zu mit den von ein eine sich auf für im dem des auch es sie "
    "wir ich er wird werden bei noch nach oder aus wie",
    "es": "el la los las y en que por con para una un es del se no lo como su sus al más pero "
    "fue ha este esta entre sobre",
    "pt": "o a os as do da dos das em e não um uma com na no ao para que se por foi são mais "
    "como pelo pela seu sua",
    "it": "il la di che è per non una un gli della sono con nel alla anche del le dei delle si al",
    "pl": "i w na z się nie do to że jest o jak po za od co",
}
_SETS = {k: set(v.split()) for k, v in _STOPWORDS.items()}
_DISTINCT = {k: s - set().union(*(o for j, o in _SETS.items() if j != k)) for k, s in _SETS.items()}
_ELISION_RE = re.compile(r"\b(?:[cdjlmnst]|qu)['’](?=\w)", re.IGNORECASE)
_HTML_LANG_RE = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2})", re.IGNORECASE)


def segments_language(segments: Sequence[str]) -> str | None:
    text = " ".join(segments)
    tokens = WORD_RE.findall(text.lower())
    scores = {k: sum(t in words for t in tokens) for k, words in _DISTINCT.items()}
    scores["fr"] += len(_ELISION_RE.findall(text))
    ranked = sorted(scores.values(), reverse=True)
    best = max(scores, key=lambda k: scores[k])
    return best if ranked[0] > ranked[1] else None


def is_french(html: bytes, with_: Sequence[str], without: Sequence[str]) -> bool:
    """Language of the annotated segments; the <html lang> attribute breaks ties."""
    lang = segments_language([*with_, *without])
    if lang is not None:
        return lang == "fr"
    m = _HTML_LANG_RE.search(html[:50_000])
    return bool(m and m.group(1).lower() == b"fr")


# --------------------------------------------------------------------------- corpora


@dataclass
class Page:
    id: str
    url: str | None
    path: Path

    def read(self) -> bytes:
        data = self.path.read_bytes()
        return gzip.decompress(data) if self.path.suffix == ".gz" else data


@dataclass
class Row:
    metric: str
    values: dict[str, float | tuple[int, int] | None]
    reference: str = ""
    fmt: str = "{:.3f}"
    compare: bool = True  # higher is better: Δ against the better baseline


@dataclass
class Report:
    corpus: str
    pages: int
    rows: list[Row]
    speeds: dict[str, float]
    errors: dict[str, list[str]]
    details: list[str] = field(default_factory=list)  # --verbose lines


def progress(corpus: str, i: int, n: int) -> None:
    if err_console.is_terminal and (i % 10 == 0 or i == n):
        err_console.print(f"  {corpus}: {i}/{n}", end="\r")


def worst(
    items: Sequence[Any],
    score: Callable[[Any], dict[str, float]],
    names: Sequence[str],
    n: int = 10,
) -> list[Any]:
    """The n items where veille loses most vs the better baseline (losses only), or the n
    lowest scores when veille does not run."""
    baselines = [b for b in BASELINES if b in names]
    if VEILLE in names and baselines:
        losses = [(max(score(x)[b] for b in baselines) - score(x)[VEILLE], x) for x in items]
        losses = [lx for lx in losses if lx[0] > 0]
    else:
        losses = [(-score(x)[names[0]], x) for x in items]
    losses.sort(key=lambda lx: lx[0], reverse=True)
    return [x for _, x in losses[:n]]


def preview(name: str, text: str | None, width: int = 160) -> str:
    """One line showing what an extractor returned, for --verbose."""
    if text is None:
        return f"    {name} returned None"
    flat = normalise_ws(text)
    cut = flat[:width] + ("…" if len(flat) > width else "")
    return f"    {name} text ({len(text)} chars): {cut!r}"


def focus(names: Sequence[str]) -> str:
    """The extractor whose failures --verbose explains: veille when it runs."""
    return VEILLE if VEILLE in names else names[0]


def scrapinghub_pages(root: Path) -> tuple[list[Page], dict[str, Any]]:
    base = root / "scrapinghub"
    truth = json.loads((base / "ground-truth.json").read_text(encoding="utf-8"))
    pages = [
        Page(k, v.get("url"), base / "html" / f"{k}.html.gz") for k, v in sorted(truth.items())
    ]
    return pages, truth


def trafilatura_eval_items(root: Path) -> list[tuple[str, dict[str, Any]]]:
    data = json.loads((root / "trafilatura-eval" / "evaldata.json").read_text(encoding="utf-8"))
    return list(data.items())


def bench_scrapinghub(
    root: Path, extractors: list[Extractor], keep: Callable[[str], bool]
) -> Report:
    pages, truth = scrapinghub_pages(root)
    pages = [p for p in pages if keep(p.id)]
    names = [e.name for e in extractors]
    shingles: dict[str, list[tuple[float, float, float]]] = {n: [] for n in names}
    tokens: dict[str, list[tuple[float, float, float]]] = {n: [] for n in names}
    per_page: list[tuple[Page, dict[str, tuple[float, float, float]], dict[str, float], str]] = []
    for i, page in enumerate(pages, 1):
        html, gold = page.read(), truth[page.id].get("articleBody") or ""
        sh, tok, seen = {}, {}, ""
        for ex in extractors:
            text = ex(html, page.url).text
            c = shingle_prf(gold, text)
            shingles[ex.name].append(c)
            p, r = _precision(*c), _recall(*c)
            sh[ex.name] = (p, r, f1(p, r))
            tokens[ex.name].append(token_prf(gold, text))
            tok[ex.name] = tokens[ex.name][-1][2]
            if ex.name == focus(names):
                seen = preview(ex.name, text)
        per_page.append((page, sh, tok, seen))
        progress("scrapinghub", i, len(pages))
    s = {n: shingle_scores(shingles[n]) for n in names}
    t = {n: token_scores(tokens[n]) for n in names}
    rows = [
        Row("shingle F1 (4-grams, F1 of mean P/R)", {n: s[n][2] for n in names}, "0.960"),
        Row("  shingle precision (mean)", {n: s[n][0] for n in names}),
        Row("  shingle recall (mean)", {n: s[n][1] for n in names}),
        Row("token F1 (mean of per-page F1)", {n: t[n][2] for n in names}, "0.959"),
        Row("  token precision (mean)", {n: t[n][0] for n in names}),
        Row("  token recall (mean)", {n: t[n][1] for n in names}),
    ]
    details = []
    for page, sh, tok, seen in worst(per_page, lambda x: {n: x[1][n][2] for n in names}, names):
        figs = "  ".join(
            f"{n}: P {sh[n][0]:.2f} R {sh[n][1]:.2f} F1 {sh[n][2]:.3f} tokF1 {tok[n]:.3f}"
            for n in names
        )
        details.append(f"{page.id[:12]}  {page.url}\n    {figs}\n{seen}")
    return Report("scrapinghub", len(pages), rows, {}, {}, details)


def bench_trafilatura_eval(
    root: Path, extractors: list[Extractor], keep: Callable[[str], bool]
) -> Report:
    base = root / "trafilatura-eval"
    items = [(k, v) for k, v in trafilatura_eval_items(root) if keep(k)]
    names = [e.name for e in extractors]
    total = {n: SegmentCounts() for n in names}
    french = {n: SegmentCounts() for n in names}
    n_french = 0
    per_page: list[tuple[str, bool, dict[str, SegmentCounts], str]] = []
    for i, (key, item) in enumerate(items, 1):
        page = Page(
            key, key if key.startswith("http") else None, base / "pages" / f"{item['file']}.gz"
        )
        html = page.read()
        fr = is_french(html, item["with"], item["without"])
        n_french += fr
        counts, seen = {}, ""
        for ex in extractors:
            text = ex(html, page.url).text
            c = segment_counts(text, item["with"], item["without"])
            counts[ex.name] = c
            total[ex.name] += c
            if fr:
                french[ex.name] += c
            if ex.name == focus(names):
                seen = preview(ex.name, text, 100)
        per_page.append((key, fr, counts, seen))
        progress("trafilatura-eval", i, len(items))

    def fr_values(k: int) -> dict[str, float | tuple[int, int] | None]:
        return {n: french[n].prf[k] if n_french else None for n in names}

    rows = [
        Row("segment F1, all pages", {n: total[n].prf[2] for n in names}, "0.926"),
        Row("  precision", {n: total[n].prf[0] for n in names}),
        Row("  recall", {n: total[n].prf[1] for n in names}),
        Row(f"segment F1, French pages ({n_french})", fr_values(2), "0.931"),
        Row("  precision", fr_values(0)),
        Row("  recall", fr_values(1)),
        Row(
            "TP / FP (all)",
            {n: (total[n].tp, total[n].fp) for n in names},
            fmt="{}/{}",
            compare=False,
        ),
    ]
    details = []
    for key, fr, counts, seen in worst(per_page, lambda x: {n: x[2][n].net for n in names}, names):
        figs = "  ".join(f"{n}: TP {counts[n].tp} FP {counts[n].fp}" for n in names)
        lines = [f"{key}{'  [fr]' if fr else ''}\n    {figs}", seen]
        mine = counts[focus(names)]
        others = [counts[b] for b in BASELINES if b in counts and b != focus(names)]
        missed = [s for s in mine.missed if all(s not in o.missed for o in others)]
        kept = [s for s in mine.kept if all(s not in o.kept for o in others)]
        lines += [f"    missed `with`: {s!r}" for s in missed]
        lines += [f"    kept `without`: {s!r}" for s in kept]
        details.append("\n".join(lines))
    return Report("trafilatura-eval", len(items), rows, {}, {}, details)


@dataclass
class FrenchDoc:
    id: str
    url: str | None
    path: Path
    body: str
    title: str | None
    date: str | None
    instant: dt.datetime | None = None  # when the gold states a time with its offset


def _aware(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _fundus_docs(base: Path) -> list[FrenchDoc]:
    meta = json.loads((base / "meta.info").read_text(encoding="utf-8"))
    docs = []
    for gold_file in sorted(base.glob("*.json")):
        versions = json.loads(gold_file.read_text(encoding="utf-8"))
        files = sorted(base.glob(f"{gold_file.stem}_*.html.gz"))
        for key, html_path in zip(sorted(versions), files, strict=True):  # V1, V1_1 <-> by date
            gold = versions[key]
            body = gold.get("body") or {}
            parts = list(body.get("summary") or [])
            for section in body.get("sections") or []:
                parts += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
            docs.append(
                FrenchDoc(
                    html_path.name.removesuffix(".html.gz"),
                    meta.get(html_path.name, {}).get("url"),
                    html_path,
                    "\n".join(parts),
                    gold.get("title"),
                    normalise_date(gold.get("publishing_date")),
                    _aware(gold.get("publishing_date")),
                )
            )
    return docs


def _readability_docs(base: Path) -> list[FrenchDoc]:
    docs = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        expected = lxml_html.fromstring((folder / "expected.html").read_text(encoding="utf-8"))
        meta = json.loads((folder / "expected-metadata.json").read_text(encoding="utf-8"))
        docs.append(
            FrenchDoc(
                folder.name,
                None,  # the readability test pages carry no URL
                folder / "source.html",
                expected.text_content(),
                meta.get("title"),
                normalise_date(meta.get("publishedTime")),
                _aware(meta.get("publishedTime")),
            )
        )
    return docs


def french_docs(root: Path) -> list[FrenchDoc]:
    base = root / "french"
    return _fundus_docs(base / "fundus") + _readability_docs(base / "readability")


def same_minute(a: dt.datetime | None, b: dt.datetime | None) -> bool:
    return a is not None and b is not None and abs((a - b).total_seconds()) < 60


def bench_french(root: Path, extractors: list[Extractor], keep: Callable[[str], bool]) -> Report:
    docs = [d for d in french_docs(root) if keep(d.id)]
    names = [e.name for e in extractors]
    tokens: dict[str, list[tuple[float, float, float]]] = {n: [] for n in names}
    titles = {n: 0 for n in names}
    dates = {n: 0 for n in names}
    instants = {n: 0 for n in names}
    n_dates = sum(d.date is not None for d in docs)
    n_instants = sum(d.instant is not None for d in docs)
    per_page: list[tuple[FrenchDoc, dict[str, tuple[float, float, float]], list[str]]] = []
    short = 200  # titles in --verbose notes
    for i, doc in enumerate(docs, 1):
        html = Page(doc.id, doc.url, doc.path).read()
        scores, notes = {}, []
        for ex in extractors:
            res = ex(html, doc.url)
            title, date, instant = res.title, res.date, res.instant
            if ex.name in BASELINES:
                title, date = trafilatura_metadata(html, doc.url)
            prf = token_prf(doc.body, res.text)
            tokens[ex.name].append(prf)
            scores[ex.name] = prf
            if ex.name == focus(names):
                notes.insert(0, preview(ex.name, res.text))
            if normalise_title(title) == normalise_title(doc.title):
                titles[ex.name] += 1
            else:
                shown = (title or "")[:short] + ("…" if len(title or "") > short else "")
                notes.append(f"    {ex.name} title {shown!r} != gold {doc.title!r}")
            if doc.date is not None:
                if date == doc.date:
                    dates[ex.name] += 1
                else:
                    notes.append(f"    {ex.name} date {date!r} != gold {doc.date!r}")
            if doc.instant is not None:
                if same_minute(instant, doc.instant):
                    instants[ex.name] += 1
                elif ex.name == VEILLE:
                    notes.append(f"    {ex.name} instant {instant} != gold {doc.instant}")
        per_page.append((doc, scores, notes))
        progress("french", i, len(docs))
    t = {n: token_scores(tokens[n]) for n in names}
    n = len(docs)
    rows = [
        Row("token F1 (mean of per-page F1)", {m: t[m][2] for m in names}, "0.990"),
        Row("  token precision (mean)", {m: t[m][0] for m in names}),
        Row("  token recall (mean)", {m: t[m][1] for m in names}),
        Row(f"titles matched /{n}", {m: (titles[m], n) for m in names}, "8/8", "{}/{}"),
        Row(f"dates matched /{n_dates}", {m: (dates[m], n_dates) for m in names}, "7/7", "{}/{}"),
        Row(
            f"instants to the minute /{n_instants}",
            {m: (instants[m], n_instants) for m in names},
            fmt="{}/{}",
        ),
    ]
    details = []
    for doc, scores, notes in worst(per_page, lambda x: {m: x[1][m][2] for m in names}, names):
        figs = "  ".join(
            f"{m}: tokP {scores[m][0]:.3f} tokR {scores[m][1]:.3f} F1 {scores[m][2]:.3f}"
            for m in names
        )
        details.append("\n".join([f"{doc.id}  {doc.url or ''}\n    {figs}", *notes]))
    return Report("french", n, rows, {}, {}, details)


# --------------------------------------------------------------------------- furniture

_SENTENCE_END = re.compile(r"(?<=[.!?…»])\s+(?=[«\"“A-ZÀ-ÖØ-Ý0-9])")


def sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(normalise_ws(paragraph)) if s]


@dataclass
class FurnitureCounts:
    sentences: int = 0
    kept: int = 0  # article sentences found
    furniture: int = 0
    leaked: int = 0  # furniture strings found
    pages: int = 0
    whole: int = 0  # pages keeping every article sentence
    clean: int = 0  # pages keeping no furniture
    titles: int = 0
    days: int = 0
    timed: int = 0  # pages whose truth states a time
    instants: int = 0

    @property
    def recall(self) -> float:
        return self.kept / self.sentences if self.sentences else 0.0

    @property
    def precision(self) -> float:
        return self.kept / (self.kept + self.leaked) if self.kept + self.leaked else 0.0


def furniture_pages(split: str) -> list[dict[str, Any]]:
    truth = json.loads((FURNITURE / "truth.json").read_text(encoding="utf-8"))
    wanted = {"dev": {"dev"}, "test": {"heldout"}, "all": {"dev", "heldout"}}[split]
    return [p for p in truth["pages"] if p["split"] in wanted]


def outlet_memories(extract: Any, pages: list[dict[str, Any]]) -> dict[str, Any]:
    """Each page's template memory: what its outlet's other pages have in common."""
    from veille.extract.template import SiteTemplate, learn, page_blocks

    blocks = {p["file"]: page_blocks((FURNITURE / p["file"]).read_bytes(), p["url"]) for p in pages}
    memories = {}
    for page in pages:
        outlet = page["file"].split("/")[0]
        template = SiteTemplate()
        for other in pages:
            if other is not page and other["file"].split("/")[0] == outlet:
                template = learn(template, blocks[other["file"]])
        memories[page["file"]] = template
    return memories


def bench_furniture(
    extractors: list[Extractor], split: str, memories: dict[str, Any] | None
) -> Report:
    pages = furniture_pages(split)
    names = [e.name for e in extractors]
    counts = {n: FurnitureCounts() for n in names}
    details: list[str] = []
    for i, page in enumerate(pages, 1):
        html = (FURNITURE / page["file"]).read_bytes()
        wanted = [s for p in page["article"] for s in sentences(p)]
        published = dt.datetime.fromisoformat(page["published"])
        notes: list[str] = []
        for ex in extractors:
            context = {"template": memories[page["file"]]} if ex.name == MEMORY and memories else {}
            res = ex(html, page["url"], **context)
            title, day, instant = res.title, res.date, res.instant
            if ex.name in BASELINES:
                title, day = trafilatura_metadata(html, page["url"])
            body = normalise_ws(res.text or "")
            found = [s for s in wanted if s in body]
            leaked = [f for f in page["furniture"] if f in body]
            c = counts[ex.name]
            c.pages += 1
            c.sentences += len(wanted)
            c.kept += len(found)
            c.furniture += len(page["furniture"])
            c.leaked += len(leaked)
            c.whole += len(found) == len(wanted)
            c.clean += not leaked
            c.titles += normalise_title(title) == normalise_title(page["title"])
            c.days += day == page["published"][:10]
            if "T" in page["published"]:
                c.timed += 1
                c.instants += same_minute(instant, published)
            if ex.name in (VEILLE, MEMORY):
                missed = [s for s in wanted if s not in found]
                notes += [f"    {ex.name} missed: {s!r}" for s in missed]
                notes += [f"    {ex.name} kept: {f!r}" for f in leaked]
                if normalise_title(title) != normalise_title(page["title"]):
                    notes.append(f"    {ex.name} title {title!r} != {page['title']!r}")
                if "T" in page["published"] and not same_minute(instant, published):
                    notes.append(f"    {ex.name} instant {instant} != {published}")
        if notes:
            details.append("\n".join([page["file"], *dict.fromkeys(notes)]))
        progress("furniture", i, len(pages))

    def ratio(attr: str, total: str = "pages") -> dict[str, float | tuple[int, int] | None]:
        return {n: (getattr(counts[n], attr), getattr(counts[n], total)) for n in names}

    n_outlets = len({p["file"].split("/")[0] for p in pages})
    label = {"dev": "dev outlets", "test": "held-out outlets", "all": "all outlets"}[split]
    rows = [
        Row("article sentences kept (recall)", {n: counts[n].recall for n in names}),
        Row("precision (sentences / + furniture kept)", {n: counts[n].precision for n in names}),
        Row("pages keeping every sentence", ratio("whole"), fmt="{}/{}"),
        Row("pages keeping no furniture", ratio("clean"), fmt="{}/{}"),
        Row("furniture strings kept", ratio("leaked", "furniture"), fmt="{}/{}", compare=False),
        Row("titles matched", ratio("titles"), fmt="{}/{}"),
        Row("days matched", ratio("days"), fmt="{}/{}"),
        Row("instants to the minute", ratio("instants", "timed"), fmt="{}/{}"),
    ]
    return Report(f"furniture, {label} ({n_outlets})", len(pages), rows, {}, {}, details)


# --------------------------------------------------------------------------- splits


def corpus_ids(root: Path) -> dict[str, list[str]]:
    return {
        "scrapinghub": [p.id for p in scrapinghub_pages(root)[0]],
        "trafilatura-eval": [k for k, _ in trafilatura_eval_items(root)],
        "french": [d.id for d in french_docs(root)],
    }


def in_dev(corpus: str, page_id: str) -> bool:
    """A seeded hash of the id, not a look at the page, puts it in dev or test."""
    digest = hashlib.sha256(f"{SPLIT_SEED}:{corpus}:{page_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < DEV_SHARE


def write_split(root: Path) -> dict[str, Any]:
    corpora = {}
    for corpus, ids in corpus_ids(root).items():
        corpora[corpus] = {
            "dev": sorted(i for i in ids if in_dev(corpus, i)),
            "test": sorted(i for i in ids if not in_dev(corpus, i)),
        }
    split = {"seed": SPLIT_SEED, "dev_share": DEV_SHARE, "corpora": corpora}
    SPLIT_FILE.write_text(json.dumps(split, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return split


def split_filter(corpus: str, split: str) -> Callable[[str], bool]:
    if split == "all":
        return lambda _: True
    chosen = set(json.loads(SPLIT_FILE.read_text("utf-8"))["corpora"][corpus][split])
    return chosen.__contains__


# --------------------------------------------------------------------------- output


def fmt_value(value: float | tuple[int, int] | None, fmt: str) -> str:
    if value is None:
        return "-"
    return fmt.format(*value) if isinstance(value, tuple) else fmt.format(value)


def _number(value: float | tuple[int, int]) -> float:
    return float(value[0]) if isinstance(value, tuple) else float(value)


def best_baseline(row: Row) -> float | None:
    found = [_number(v) for b in BASELINES if (v := row.values.get(b)) is not None]
    return max(found) if found else None


def fmt_delta(row: Row) -> str:
    base, mine = best_baseline(row), row.values.get(VEILLE)
    if not row.compare or base is None or mine is None:
        return ""
    d = _number(mine) - base
    if isinstance(mine, tuple):
        return f"{int(d):+d}"
    style = "green" if d > 0.0005 else "red" if d < -0.0005 else ""
    return f"[{style}]{d:+.3f}[/{style}]" if style else f"{d:+.3f}"


def speed_ratio(report: Report) -> str:
    base, mine = report.speeds.get(BASELINE), report.speeds.get(VEILLE)
    return f"×{mine / base:.2f}" if base and mine else ""


def print_report(report: Report, names: list[str], verbose: bool) -> None:
    table = Table(title=f"{report.corpus} ({report.pages} pages)", title_justify="left")
    table.add_column("metric")
    for n in names:
        table.add_column(n, justify="right")
    compared = VEILLE in names and any(b in names for b in BASELINES)
    if compared:
        table.add_column("Δ veille−best traf.", justify="right")
    table.add_column("README (traf 2.3.1)", justify="right", style="dim")
    for row in report.rows:
        cells = [fmt_value(row.values.get(n), row.fmt) for n in names]
        if compared:
            cells.append(fmt_delta(row))
        table.add_row(row.metric, *cells, row.reference)
    speed_cells = [f"{report.speeds[n]:.1f}" for n in names]
    if compared:
        speed_cells.append(speed_ratio(report) + " traf." if speed_ratio(report) else "")
    table.add_row(
        "pages/s (extraction only)", *speed_cells, {"scrapinghub": "39"}.get(report.corpus, "")
    )
    console.print(table)
    for n, errs in report.errors.items():
        if errs:
            kinds = dict(Counter(e.split(":", 1)[0] for e in errs))
            console.print(f"[red]{n}: {len(errs)} page(s) raised[/red] {escape(str(kinds))}")
            console.print(f"  first: {errs[0]}", markup=False)
    if verbose and report.details:
        console.print(f"\n[bold]{report.corpus}: pages to look at [/bold]")
        shown = report.details if report.corpus.startswith("furniture") else report.details[:10]
        for line in shown:
            console.print(line, markup=False)
    console.print()


def summary_line(report: Report, names: list[str]) -> str:
    rows = report.rows[:2] if report.corpus.startswith("furniture") else report.rows[:1]
    if report.corpus == "trafilatura-eval":
        rows = [report.rows[0], report.rows[3]]
    elif report.corpus == "french":
        rows = [report.rows[0], *report.rows[3:]]
    parts = []
    for row in rows:
        values = ", ".join(f"{n} {fmt_value(row.values.get(n), row.fmt)}" for n in names)
        delta = Text.from_markup(fmt_delta(row)).plain
        name = row.metric.split(" (")[0].strip()
        parts.append(f"{name}: {values}" + (f" (Δ {delta})" if delta else ""))
    ratio = speed_ratio(report)
    speed = f"; speed {ratio} trafilatura" if ratio else ""
    return f"{report.corpus} [{report.pages}]: " + "; ".join(parts) + speed


# --------------------------------------------------------------------------- main


def resolve_root(shared: str | None) -> Path | None:
    base = Path(shared or os.environ.get("VEILLE_SHARED") or DEFAULT_SHARED).expanduser()
    for candidate in (base / "datasets" / "extraction", base / "extraction", base):
        if all((candidate / c).is_dir() for c in CORPORA):
            return candidate
    return None


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--corpus", choices=[*CORPORA, "furniture", "all"], default="all")
    ap.add_argument("--split", choices=["test", "dev", "all"], default="test")
    ap.add_argument("--only", choices=[BASELINE, PRECISION, VEILLE], default=None)
    ap.add_argument("--verbose", action="store_true", help="per-page worst cases")
    ap.add_argument(
        "--write-split",
        action="store_true",
        help=f"rebuild {SPLIT_FILE.name} from the seeded hash and exit",
    )
    ap.add_argument(
        "--shared",
        default=None,
        help=f"shared directory (default $VEILLE_SHARED or {DEFAULT_SHARED})",
    )
    args = ap.parse_args(argv)

    wanted = (*CORPORA, "furniture") if args.corpus == "all" else (args.corpus,)
    root = resolve_root(args.shared)
    if root is None and (args.write_split or any(c in CORPORA for c in wanted)):
        where = args.shared or os.environ.get("VEILLE_SHARED") or DEFAULT_SHARED
        err_console.print(
            f"[red]error:[/red] extraction datasets not found under {where} "
            "(expected datasets/extraction/{scrapinghub,trafilatura-eval,french}); "
            "pass --shared PATH or set VEILLE_SHARED."
        )
        return 2
    if args.write_split:
        assert root is not None
        split = write_split(root)
        for corpus, parts in split["corpora"].items():
            console.print(f"{corpus}: dev {len(parts['dev'])}, test {len(parts['test'])}")
        return 0

    extractors: list[Extractor] = []
    if args.only in (None, BASELINE):
        extractors.append(Extractor(BASELINE, run_trafilatura))
    if args.only in (None, PRECISION):
        extractors.append(Extractor(PRECISION, run_precision))
    extract = None
    if args.only in (None, VEILLE):
        extract, reason = load_veille()
        if extract is None:
            console.print(f"[yellow]veille: not importable ({reason})[/yellow]")
            if args.only == VEILLE:
                return 2
        else:
            extractors.append(Extractor(VEILLE, make_veille_runner(extract)))
    names = [e.name for e in extractors]
    # Imports and first-call setup stay out of the speed figures.
    for ex in extractors:
        ex(WARM_UP, "https://example.org/")
    console.print(
        f"data: {root}  trafilatura {trafilatura.__version__}  split: {args.split}  "
        f"extractors: {', '.join(names)}\n"
    )

    reports = []
    for corpus in wanted:
        if corpus == "furniture":
            splits = ("dev", "test") if args.split == "all" else (args.split,)
            for split in splits:
                runners = list(extractors)
                memories = None
                if extract is not None:
                    runners.append(Extractor(MEMORY, make_veille_runner(extract)))
                    memories = outlet_memories(extract, furniture_pages(split))
                for ex in runners:
                    ex.reset()
                report = bench_furniture(runners, split, memories)
                reports.append(_finish(report, runners, args.verbose))
            continue
        assert root is not None
        for ex in extractors:
            ex.reset()
        keep = split_filter(corpus, args.split)
        report = BENCHES[corpus](root, extractors, keep)
        reports.append(_finish(report, extractors, args.verbose))

    console.print("[bold]summary[/bold]")
    for report, runner_names in reports:
        console.print(summary_line(report, runner_names), markup=False)
    return 0


def _finish(report: Report, runners: list[Extractor], verbose: bool) -> tuple[Report, list[str]]:
    report.speeds = {e.name: e.speed for e in runners}
    report.errors = {e.name: list(e.errors) for e in runners}
    if err_console.is_terminal:
        err_console.print(" " * 40, end="\r")
    names = [e.name for e in runners]
    print_report(report, names, verbose)
    return report, names


BENCHES: dict[str, Callable[[Path, list[Extractor], Callable[[str], bool]], Report]] = {
    "scrapinghub": bench_scrapinghub,
    "trafilatura-eval": bench_trafilatura_eval,
    "french": bench_french,
}


if __name__ == "__main__":
    sys.exit(main())
