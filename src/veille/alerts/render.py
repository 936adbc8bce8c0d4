"""Alerts rendered for every kind of target: a short message (the story, why it alerts,
why it matches, its first sources) as Markdown, HTML e-mail with its text part, Slack's
mrkdwn and JSON (`docs/alert.schema.json`), and the watch's Atom feed of its latest alerts.

An alert reuses the digests' templates, helpers and escaping (`veille.digest.render`):
article text is untrusted everywhere, and only http(s) addresses become links.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from veille.config import SmtpSettings
from veille.digest.build import Entry
from veille.digest.deliver import chat_payload, parse_target
from veille.digest.render import entry_json, render_template, rfc3339, slug
from veille.digest.why import rank_line, term_line
from veille.i18n import ntranslate, translate
from veille.model import Watch

SCHEMA_VERSION = 1
FEED_SIZE = 50  # alerts kept in a watch's Atom feed of alerts


@dataclass(frozen=True)
class Alert:
    """A story that crossed one of a watch's alert thresholds, as it stands when sent."""

    watch: Watch
    kind: str  # instant, breaking
    story_id: int  # the story that crossed (`entry` may be the story it has joined since)
    entry: Entry
    crossed_at: datetime
    details: dict[str, Any]  # the counts that made it cross
    generated: datetime
    zone: str | None = None  # where its times are shown (Europe/Paris by default)

    @property
    def key(self) -> str:
        """Names the alert among the watch's deliveries: once per story and threshold."""
        return f"alert:{self.kind}:{self.story_id}"


def heading(alert: Alert, lang: str) -> str:
    if alert.kind == "breaking":
        return translate("Breaking — watch « {name} »", lang, name=alert.watch.name)
    return translate("New story — watch « {name} »", lang, name=alert.watch.name)


def reason(alert: Alert, lang: str) -> str:
    """Why it alerts, in words."""
    details = alert.details
    if alert.kind == "breaking":
        count = int(details.get("sources", 0))
        return ntranslate(
            "{count} new source in {minutes} min where {expected} were expected",
            "{count} new sources in {minutes} min where {expected} were expected",
            count,
            lang,
            count=count,
            minutes=details.get("window_minutes", 60),
            expected=f"{float(details.get('expected', 0)):.1f}",
        )
    count = len(alert.entry.sources)
    return ntranslate(
        "a new story, {count} source so far",
        "a new story, {count} sources so far",
        count,
        lang,
        count=count,
    )


def why_lines(alert: Alert, lang: str) -> list[str]:
    found = alert.entry.explanation
    return [term_line(t, found.articles, lang) for t in found.terms] + [rank_line(found, lang)]


def _values(alert: Alert, lang: str) -> dict[str, Any]:
    return {
        "entry": alert.entry,
        "heading": heading(alert, lang),
        "reason": reason(alert, lang),
        "generated": alert.generated,
    }


def render_alert(alert: Alert, fmt: str, lang: str = "fr") -> str:
    """The alert as md, html, text, slack or json."""
    lang = "en" if lang.startswith("en") else "fr"
    if fmt == "json":
        return json.dumps(alert_json(alert, lang), ensure_ascii=False, indent=2) + "\n"
    name = {"md": "md", "html": "html", "text": "txt", "slack": "slack"}[fmt]
    return render_template(f"alert.{name}.j2", fmt, lang, alert.zone, **_values(alert, lang))


def alert_json(alert: Alert, lang: str = "fr") -> dict[str, Any]:
    """The alert as its JSON document (`docs/alert.schema.json`)."""
    watch = alert.watch
    return {
        "schema_version": SCHEMA_VERSION,
        "alert": alert.kind,
        "key": alert.key,
        "language": lang,
        "watch": {
            "name": watch.name,
            "query": watch.query,
            "languages": list(watch.languages),
            "sites": list(watch.sites),
        },
        "heading": heading(alert, lang),
        "reason": reason(alert, lang),
        "why": why_lines(alert, lang),
        "crossed_at": rfc3339(alert.crossed_at),
        "generated": rfc3339(alert.generated),
        "details": alert.details,
        "entry": entry_json(alert.entry, 1, lang),
    }


def feed(watch: Watch, documents: list[dict[str, Any]], lang: str = "fr") -> str:
    """The watch's Atom feed of alerts, from their documents (latest first)."""
    kept = documents[:FEED_SIZE]
    return render_template(
        "alerts.atom.j2",
        "atom",
        lang,
        watch=watch,
        alerts=kept,
        feed_id=f"tag:veille.invalid,2026:alerts:{slug(watch.name)}",
        updated=kept[0]["generated"] if kept else "1970-01-01T00:00:00Z",
    )


def document(alert: Alert, lang: str) -> dict[str, Any]:
    """What is kept of a sent alert, for the feed and the API: its JSON, and its HTML."""
    return {
        **alert_json(alert, lang),
        "html": render_template("entry.html.j2", "html", lang, alert.zone, entry=alert.entry),
    }


def payload(
    alert: Alert,
    target: str,
    lang: str,
    smtp: SmtpSettings,
    earlier: list[dict[str, Any]],
) -> bytes:
    """What will be sent to the target, rendered once and stored before sending; `earlier`
    are the documents of the watch's last alerts, for its Atom feed."""
    kind, address = parse_target(target)
    if kind == "file":
        base = f"{slug(alert.watch.name)}-{alert.kind}-{alert.story_id}"
        files = {
            f"{base}.md": render_alert(alert, "md", lang),
            f"{base}.html": render_alert(alert, "html", lang),
            f"{base}.json": render_alert(alert, "json", lang),
            f"{slug(alert.watch.name)}-alerts.atom": feed(
                alert.watch, [document(alert, lang), *earlier], lang
            ),
        }
        return json.dumps(files, ensure_ascii=False).encode()
    if kind == "mailto":
        return _email(alert, address, lang, smtp).as_bytes()
    if kind == "webhook":
        return json.dumps(alert_json(alert, lang), ensure_ascii=False).encode()
    return chat_payload(kind, render_alert(alert, "slack" if kind == "slack" else "md", lang))


def _email(alert: Alert, recipients: str, lang: str, smtp: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"{heading(alert, lang)} : {alert.entry.title}"
    message["From"] = smtp.sender
    message["To"] = ", ".join(r.strip() for r in recipients.split(",") if r.strip())
    message["Date"] = formatdate(localtime=False)
    # Stable per alert: sent again after a crash, it is one message to mail clients.
    message["Message-ID"] = make_msgid(
        f"{slug(alert.watch.name)}.{alert.kind}.{alert.story_id}", "veille.invalid"
    )
    message.set_content(render_alert(alert, "text", lang))
    message.add_alternative(render_alert(alert, "html", lang), subtype="html")
    return message
