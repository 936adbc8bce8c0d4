"""Sending a digest where the reader lives: files, e-mail (SMTP), webhooks.

Targets, as written in a watch:

    file:/path/to/folder        Markdown, HTML and JSON of each digest, and the watch's Atom feed
    mailto:ana@example.org,bo@example.org   HTML e-mail with its plain-text part ([smtp])
    webhook:https://example.org/hook        the JSON digest, POSTed
    slack:https://hooks.slack.com/...       a Slack-compatible message
    mattermost:https://chat.example/hooks/… a Mattermost message (Markdown)

Each (watch, digest, target) is recorded as pending with what will be sent before it is
sent, then marked sent or failed: a run that crashed in between sends the stored payload
on the next run, once, and a digest marked sent is never sent again. Failures are retried
with back-off within a run, and the last error is kept (`veille digest --log`).
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import httpx

from veille.digest.build import Digest
from veille.digest.render import render, slug, to_json
from veille.i18n import ntranslate, translate
from veille.store import Store

KINDS = ("file", "mailto", "webhook", "slack", "mattermost")


class DeliveryError(Exception):
    """A digest could not be delivered to a target; the reason is in words."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 587
    security: str = "starttls"  # starttls, ssl or none
    username: str | None = None
    password_env: str = "VEILLE_SMTP_PASSWORD"  # the password is read from the environment
    sender: str = "veille@localhost"
    timeout: float = 30.0


def smtp_from_config(config: Mapping[str, Any] | None) -> SmtpSettings:
    config = dict(config or {})
    if "from" in config:
        config["sender"] = config.pop("from")
    defaults = SmtpSettings()
    return SmtpSettings(
        **{
            name: type(getattr(defaults, name))(value)
            if getattr(defaults, name) is not None
            else value
            for name, value in config.items()
            if name in SmtpSettings.__dataclass_fields__
        }
    )


@dataclass(frozen=True)
class Outcome:
    target: str
    status: str  # sent, failed, skipped (sent before)
    attempts: int
    error: str | None = None


def parse_target(target: str) -> tuple[str, str]:
    """(kind, address) of a target; DeliveryError when it is not one veille knows."""
    kind, sep, address = target.partition(":")
    if not sep or kind not in KINDS or not address:
        raise DeliveryError(
            translate(
                "unknown delivery target « {target} » (file, mailto, webhook, slack, mattermost)",
                None,
                target=target,
            )
        )
    if kind in ("webhook", "slack", "mattermost") and not address.startswith(
        ("http://", "https://")
    ):
        raise DeliveryError(
            translate("a webhook needs an http(s) URL: « {target} »", None, target=target)
        )
    return kind, address


def payload(digest: Digest, target: str, lang: str, smtp: SmtpSettings) -> bytes:
    """What will be sent to the target, rendered once and stored before sending."""
    kind, address = parse_target(target)
    if kind == "file":
        base = f"{slug(digest.watch.name)}-{digest.key}"
        files = {
            f"{base}.md": render(digest, "md", lang),
            f"{base}.html": render(digest, "html", lang),
            f"{base}.json": render(digest, "json", lang),
            f"{slug(digest.watch.name)}.atom": render(digest, "atom", lang),
        }
        return json.dumps(files, ensure_ascii=False).encode()
    if kind == "mailto":
        return _email(digest, address, lang, smtp).as_bytes()
    if kind == "webhook":
        return json.dumps(to_json(digest, lang), ensure_ascii=False).encode()
    text = render(digest, "md", lang)
    if kind == "slack":
        # Slack's mrkdwn: *bold*, <url|text> links; the Markdown reads well enough as text.
        return json.dumps({"text": text, "mrkdwn": True}, ensure_ascii=False).encode()
    return json.dumps({"text": text, "username": "veille"}, ensure_ascii=False).encode()


def _email(digest: Digest, recipients: str, lang: str, smtp: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    title = ntranslate(
        "Watch « {name} » — {count} story",
        "Watch « {name} » — {count} stories",
        len(digest.entries),
        lang,
        name=digest.watch.name,
        count=len(digest.entries),
    )
    message["Subject"] = title
    message["From"] = smtp.sender
    message["To"] = ", ".join(r.strip() for r in recipients.split(",") if r.strip())
    message["Date"] = formatdate(localtime=False)
    # Stable per digest: a message sent twice after a crash is one message to mail clients.
    message["Message-ID"] = make_msgid(f"{slug(digest.watch.name)}.{digest.key}", "veille.invalid")
    message.set_content(render(digest, "text", lang))
    message.add_alternative(render(digest, "html", lang), subtype="html")
    return message


def send(
    target: str, body: bytes, smtp: SmtpSettings, delivery_id: int, timeout: float = 30.0
) -> None:
    """Deliver the stored payload; DeliveryError with the reason when it fails."""
    kind, address = parse_target(target)
    try:
        if kind == "file":
            folder = Path(address).expanduser()
            folder.mkdir(parents=True, exist_ok=True)
            for name, content in json.loads(body).items():
                partial = folder / f".{name}.part"
                partial.write_text(content, "utf-8")
                partial.replace(folder / name)  # whole files only, even after a crash
        elif kind == "mailto":
            _smtp_send(body, smtp)
        else:
            response = httpx.post(
                address,
                content=body,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "veille",
                    # A receiver may drop a repeat after a crash between send and record.
                    "Idempotency-Key": f"veille-delivery-{delivery_id}",
                },
                timeout=timeout,
            )
            if response.status_code >= 300:
                raise DeliveryError(f"HTTP {response.status_code}")
    except DeliveryError:
        raise
    except (OSError, smtplib.SMTPException, httpx.HTTPError, ValueError) as error:
        raise DeliveryError(f"{type(error).__name__}: {error}") from error


def _smtp_send(body: bytes, smtp: SmtpSettings) -> None:
    message = message_from_bytes(body, policy=default_policy)
    context = ssl.create_default_context()
    if smtp.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=smtp.timeout, context=context
        )
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    with client:
        if smtp.security == "starttls":
            client.starttls(context=context)
        if smtp.username:
            client.login(smtp.username, os.environ.get(smtp.password_env, ""))
        client.send_message(message)


def deliver(
    store: Store,
    digest: Digest,
    targets: list[str],
    lang: str = "fr",
    smtp: SmtpSettings | None = None,
    retries: int = 3,
    backoff: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    """Send the digest to each target once (see the module's notes); the stories it carried
    are remembered when at least one target got it."""
    assert digest.watch.id is not None, "a stored watch"
    smtp = smtp or SmtpSettings()
    outcomes = []
    for target in targets:
        record = store.delivery(digest.watch.id, digest.key, target)
        if record is not None and record.status == "sent":
            outcomes.append(Outcome(target, "skipped", record.attempts))
            continue
        if record is None:
            try:
                body = payload(digest, target, lang, smtp)
            except DeliveryError as error:
                outcomes.append(Outcome(target, "failed", 0, str(error)))
                continue
            record = store.begin_delivery(digest.watch.id, digest.key, target, body)
        attempts, error = record.attempts, None
        for attempt in range(retries):
            attempts += 1
            try:
                send(target, record.payload or b"", smtp, record.id)
                error = None
                break
            except DeliveryError as failed:
                error = str(failed)
                if attempt + 1 < retries:
                    sleep(backoff * 2**attempt)
        store.finish_delivery(record.id, "failed" if error else "sent", attempts, error)
        outcomes.append(Outcome(target, "failed" if error else "sent", attempts, error))
    if any(o.status == "sent" for o in outcomes):
        store.mark_carried(
            digest.watch.id,
            digest.key,
            [(e.story_id, len(e.sources), e.articles) for e in digest.entries],
        )
    return outcomes
