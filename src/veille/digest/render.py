"""Digests rendered: Markdown, HTML e-mail (with its plain-text part), Atom, JSON, and
Slack's mrkdwn for Slack targets.

Templates are Jinja2 (`templates/`), French by default, English with `lang="en"`. Text
from articles is untrusted: HTML and Atom escape everything, Markdown and mrkdwn escape
their own syntax, and only http(s) addresses become links anywhere (`veille.urls.web_link`).
JSON follows `docs/digest.schema.json`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader

from veille.digest import why
from veille.digest.build import Digest, Entry
from veille.enrich.conflicts import WeekdayNote
from veille.enrich.conflicts import about as about_slot
from veille.i18n import install, long_date, ntranslate, short_moment
from veille.model import (
    BriefDisagreement,
    BriefFact,
    BriefNote,
    BriefQuote,
    BriefSentence,
    SourceRef,
)
from veille.text import strip_accents
from veille.urls import web_link
from veille.when import days_span, local_day

FORMATS = ("md", "html", "text", "atom", "json", "slack")
SCHEMA_VERSION = 1
_MARKDOWN = re.compile(r"([\\`*_\[\]<>#|])")
_SLACK_MARKS = re.compile(r"([*_~`])")


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("veille.digest", "templates"),
        # Everything from articles is untrusted: HTML and Atom escape all they insert.
        autoescape=lambda name: bool(name) and name.endswith((".html.j2", ".atom.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    install(environment)
    return environment


def _helpers(lang: str, zone: str | None = None) -> dict[str, Any]:
    def span(first: datetime | None, last: datetime | None) -> str:
        return days_span(first, last, zone, lambda day: long_date(day, lang))

    def sites(refs: tuple[SourceRef, ...]) -> str:
        return ", ".join(dict.fromkeys(r.site or r.url for r in refs))

    def cited(sentence: BriefSentence) -> str:
        refs = ((sentence.source,) if sentence.source else ()) + sentence.also
        return sites(refs)

    def reprints(entry: Entry) -> str:
        copies = sum(len(s.also) for s in entry.sources)
        if not copies:
            return ""
        return " " + ntranslate("(+{n} reprint)", "(+{n} reprints)", copies, lang, n=copies)

    def about(conflict: BriefDisagreement) -> str:
        return about_slot(conflict.slot, conflict.word, lang)

    def counts(entry: Entry) -> str:
        articles = ntranslate(
            "{count} article", "{count} articles", entry.articles, lang, count=entry.articles
        )
        sources = ntranslate(
            "{count} source", "{count} sources", len(entry.sources), lang, count=len(entry.sources)
        )
        return f"{articles} · {sources}"

    def note_text(note: BriefNote) -> str:
        return WeekdayNote(note.site, note.written, note.day, note.weekday).describe(lang)

    return {
        "reprints": reprints,
        "counts": counts,
        "span": span,
        "sites": sites,
        "cited": cited,
        "about": about,
        "note_text": note_text,
        **why.helpers(lang),
        # The local day a stored time is in (a digest's start is its day's 00:00 there).
        "day": lambda when: long_date(local_day(when, True, zone), lang),
        "moment": lambda when: f"{long_date(when, lang)} {when:%H:%M} UTC",
        "published": lambda source: short_moment(
            source.published, source.published_time_known, lang, zone
        ),
        "rfc3339": rfc3339,
        "lang": lang,
    }


def rfc3339(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slug(name: str) -> str:
    """A watch's name in file names and identifiers: "Grève des dockers" -> "greve-des-dockers"."""
    return re.sub(r"[^a-z0-9]+", "-", strip_accents(name).lower()).strip("-") or "watch"


def feed_id(digest: Digest) -> str:
    """A stable identifier of the watch's feed (a tag URI, RFC 4151)."""
    return f"tag:veille.invalid,2026:watch:{slug(digest.watch.name)}"


def render(digest: Digest, fmt: str, lang: str = "fr") -> str:
    """The digest as `fmt`: md, html, text, atom or json."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown digest format {fmt!r} (one of {', '.join(FORMATS)})")
    lang = "en" if lang.startswith("en") else "fr"
    if fmt == "json":
        return json.dumps(to_json(digest, lang), ensure_ascii=False, indent=2) + "\n"
    values: dict[str, Any] = {"digest": digest, "count": len(digest.entries)}
    if fmt == "atom":
        values["entry_html"] = lambda e: render_template(
            "entry.html.j2", "html", lang, digest.zone, entry=e
        )
        values["feed_id"] = feed_id(digest)
    return render_template(f"digest.{_SUFFIX[fmt]}.j2", fmt, lang, digest.zone, **values)


_SUFFIX = {"md": "md", "slack": "slack", "atom": "atom", "html": "html", "text": "txt"}


def render_template(name: str, fmt: str, lang: str, zone: str | None = None, **values: Any) -> str:
    """One of the digest templates (an alert's too), with the digests' helpers (times shown
    where `zone` is) and the escaping `fmt` needs: Markdown's or Slack's own, HTML's and
    Atom's by autoescape."""
    env = _environment()
    values = {**_helpers(lang, zone), **values}
    if fmt == "md":
        env = env.overlay()
        env.filters["md"] = _md
        values["link"] = _md_link
    elif fmt == "slack":
        env = env.overlay()
        env.filters["mrkdwn"] = _mrkdwn
        values["link"] = _slack_link
    return env.get_template(name).render(**values)


def _md(text: object) -> str:
    return _MARKDOWN.sub(r"\\\1", str(text))


def _md_link(text: str, url: str | None) -> str:
    """A Markdown link, or the text alone when the address is no web link."""
    if url is None:
        return _md(text)
    # A link target with spaces or brackets would end the link early.
    return f"[{_md(text)}]({url.replace(' ', '%20').replace(')', '%29')})"


def _mrkdwn(text: object) -> str:
    """Text for Slack's mrkdwn: its three control characters escaped, and the formatting
    marks made inert by a zero-width joiner after them."""
    escaped = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SLACK_MARKS.sub("\\1\u2060", escaped)


def _slack_link(text: str, url: str | None) -> str:
    """`<url|text>`, Slack's link; the text alone when the address is no web link."""
    if url is None:
        return _mrkdwn(text)
    label = _mrkdwn(text).replace("|", "¦")
    return f"<{url.replace('>', '%3E').replace('|', '%7C')}|{label}>"


def _ref(ref: SourceRef) -> dict[str, Any]:
    return {"site": ref.site, "url": web_link(ref.url)}


def _when(when: datetime | None) -> str | None:
    return None if when is None else rfc3339(when)


def brief_json(
    summary: tuple[BriefSentence, ...],
    facts: tuple[BriefFact, ...],
    disagreements: tuple[BriefDisagreement, ...],
    lang: str = "fr",
    quotes: tuple[BriefQuote, ...] = (),
) -> dict[str, Any]:
    """A story's summary, key facts, disagreements and quotes as the JSON digest has them."""
    helpers = _helpers(lang)
    return {
        "summary": [
            {
                "text": s.text,
                "sources": [_ref(r) for r in ((s.source,) if s.source else ()) + s.also],
            }
            for s in summary
        ],
        "facts": [
            {
                "text": f.text,
                "kinds": list(f.kinds),
                "independent_sources": f.independent,
                "sources": [_ref(r) for r in f.sources],
            }
            for f in facts
        ],
        "disagreements": [
            {
                "about": helpers["about"](d),
                "slot": d.slot,
                "word": d.word,
                "values": [
                    {"value": value, "sources": [_ref(r) for r in refs]} for value, refs in d.values
                ],
                "notes": [helpers["note_text"](n) for n in d.notes],
            }
            for d in disagreements
        ],
        "quotes": [
            {
                "text": q.text,
                "speaker": q.speaker,
                "entity": q.entity,
                "sources": [_ref(r) for r in q.sources],
            }
            for q in quotes
        ],
    }


def entry_json(entry: Entry, rank: int, lang: str) -> dict[str, Any]:
    return {
        "rank": rank,
        "story_id": entry.story_id,
        "title": entry.title,
        "first_seen": _when(entry.first_seen),
        "last_seen": _when(entry.last_seen),
        "articles": entry.articles,
        "score": entry.score,
        "relevance": entry.relevance,
        "matched": list(entry.matched),
        "new_sources": entry.new_sources,
        "sources": [
            {
                "site": s.site,
                "url": s.url,
                "title": s.title,
                # The instant (UTC), or the day alone when the page gives no time.
                "published": _when(s.published)
                if s.published_time_known or s.published is None
                else s.published.date().isoformat(),
                "also": [{"site": site, "url": url} for site, url in s.also],
                "article_id": s.article_id,
            }
            for s in entry.sources
        ],
        **brief_json(entry.summary, entry.facts, entry.disagreements, lang, entry.quotes),
        "entities": [
            {"name": e.name, "kind": e.kind, "aliases": list(e.aliases), "mentions": e.mentions}
            for e in entry.entities
        ],
        "explanation": why.explanation_json(entry.explanation),
        "grouping": [why.grouped_json(g) for g in entry.grouping],
    }


def to_json(digest: Digest, lang: str = "fr") -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "watch": {
            "name": digest.watch.name,
            "query": digest.watch.query,
            "languages": list(digest.watch.languages),
            "sites": list(digest.watch.sites),
        },
        "key": digest.key,
        "language": lang,
        "period": {"start": rfc3339(digest.start), "end": rfc3339(digest.end)},
        "generated": rfc3339(digest.generated),
        "entries": [entry_json(e, i, lang) for i, e in enumerate(digest.entries, 1)],
    }
