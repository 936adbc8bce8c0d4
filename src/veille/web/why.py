"""What the pages show of why: a story explained for a watch (the words found, marked in
its headline and in excerpts; each ranking signal's share; weak said so), why each of its
articles is in it, and its timeline with the moments it crossed alert thresholds. Values
for the templates, built from `veille.operations.alerts`."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from veille.config import Settings
from veille.digest import Entry, why
from veille.operations import NotFound, alerts
from veille.store import Store


def marked(text: str, spans: tuple[tuple[int, int], ...] | list[tuple[int, int]]) -> Markup:
    """The text escaped, the words found in <mark>."""
    out, at = [], 0
    for start, end in spans:
        out.append(escape(text[at:start]))
        out.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)


def entry_why(entry: Entry, lang: str) -> dict[str, Any]:
    """A story's explanation for a watch, ready for `_why.html`."""
    found = entry.explanation
    return {
        "weak": found.weak,
        "weak_line": why.weak_line(found, lang),
        "terms": [
            {
                "term": t.term,
                "field": t.field,
                "words": why.words_found(t)
                if t.field not in ("site", "lang", "entity")
                else ", ".join(w for w, _ in t.words),
                "where": why.term_where(t, found.articles, lang),
            }
            for t in found.terms
        ],
        "missing": list(found.missing),
        "title": marked(entry.title, found.title_spans),
        "excerpts": [{"site": e.site, "text": marked(e.text, e.spans)} for e in found.excerpts],
        "score": found.score,
        "rank_line": why.rank_line(found, lang),
        "parts": [
            {
                "name": why.signal_name(p.name, lang),
                "measured": why.part_value(p, lang),
                "weight": p.weight,
                "scaled": round(p.scaled, 3),
                "contribution": round(p.contribution, 3),
            }
            for p in found.parts
        ],
        "together": why.grouping_line(entry.grouping, lang),
    }


def story_why(
    store: Store, settings: Settings, story_id: int, watch: str | None, lang: str
) -> dict[str, Any]:
    """For a story page: its explanation for `watch` (None when there is none or it does
    not match), why each article is in it (by article id), its timeline."""
    entry = None
    if watch:
        try:
            entry = alerts.explain_story(store, settings, story_id, watch)
        except NotFound:
            watch = None
    grouping = entry.grouping if entry else alerts.story_grouping(store, settings, story_id)
    try:
        counted = alerts.story_timeline(store, settings, story_id, watch)
    except NotFound:
        counted = alerts.story_timeline(store, settings, story_id)
    peak = max((b.articles for b in counted.bins), default=1) or 1
    step = 10
    width = max(len(counted.bins), 1) * step
    origin = counted.bins[0].start if counted.bins else None

    def x(when: Any) -> float:
        if origin is None:
            return 0.0
        return round((when - origin) / counted.step * step, 1)

    return {
        "watch": watch,
        "why": entry_why(entry, lang) if entry else None,
        "grouped": {g.article_id: why.grouped_line(g, lang) for g in grouping},
        "chart": {
            "width": width,
            "bars": [
                {
                    "x": i * step + 1,
                    "height": round(100 * b.articles / peak, 1),
                    "sources": round(100 * b.sources / peak, 1),
                    "label": f"{counted.step_shown(b.start)} · {b.articles} · {b.sources}",
                }
                for i, b in enumerate(counted.bins)
            ],
            "crossings": [
                {"kind": c.kind, "x": x(c.at), "at": counted.shown(c.at), "details": c.details}
                for c in counted.crossings
            ],
            "step_hours": int(counted.step.total_seconds() // 3600),
        },
        "alerts": [
            {"kind": a.kind, "at": counted.shown(a.crossed_at), "status": a.status}
            for a in counted.alerts
        ],
    }
