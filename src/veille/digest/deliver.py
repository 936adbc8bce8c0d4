"""Sending a digest where the reader lives: files, e-mail (SMTP), webhooks.

Targets, as written in a watch:

    file:digests                Markdown, HTML and JSON of each digest, and the watch's Atom feed,
                                in a folder inside `[delivery] folder` (a relative name is
                                taken there; an absolute path must lie within it)
    mailto:ana@example.org,bo@example.org   HTML e-mail with its plain-text part ([smtp])
    webhook:https://example.org/hook        the JSON digest, POSTed
    slack:https://hooks.slack.com/...       a Slack message (Slack's own mrkdwn)
    mattermost:https://chat.example/hooks/… a Mattermost message (Markdown)

Webhooks and the SMTP server are reached through the fetcher's address guard
(`veille.fetch.safety`): loopback, private, link-local and reserved addresses are refused
unless `[delivery] allow` lists them, at every connection, and no environment proxy is used
(`[delivery] proxy` names one if needed). A watch that names such a target is refused when
saved when its address alone shows it (`target_problem`).

Each (watch, digest, target) is recorded as pending with what will be sent before it is
sent, then marked sent or failed: a run that crashed in between sends the stored payload
on the next run, once, and a digest marked sent is never sent again. Failures are retried
with back-off within a run, and the last error is kept (`veille watch show`).
"""

from __future__ import annotations

import json
import os
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import formatdate, make_msgid
from pathlib import Path

import httpx

from veille.config import DeliverySettings, SmtpSettings
from veille.digest.build import Digest
from veille.digest.render import render, slug, to_json
from veille.fetch.safety import (
    Allowlist,
    GuardedSyncTransport,
    UnsafeURLError,
    check_url,
    checked_addresses,
    connect_checked,
    refusal,
)
from veille.i18n import ntranslate, translate
from veille.store import Store

KINDS = ("file", "mailto", "webhook", "slack", "mattermost")
ALLOW_SETTING = "delivery.allow"


class DeliveryError(Exception):
    """A digest could not be delivered to a target; the reason is in words."""


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


def allowlist(delivery: DeliverySettings) -> Allowlist:
    return Allowlist.parse(delivery.allow, ALLOW_SETTING)


def file_folder(address: str, root: Path) -> Path:
    """The folder a `file:` target writes to: `address` inside `root` (relative names are
    taken there); DeliveryError when it would lie outside, through `..` or a link."""
    base = root.expanduser().resolve()
    folder = (base / Path(address).expanduser()).resolve()
    if folder != base and base not in folder.parents:
        raise DeliveryError(
            translate(
                "« file:{folder} » is outside the digest folder {root} (set [delivery] folder "
                "to write elsewhere)",
                None,
                folder=address,
                root=str(base),
            )
        )
    return folder


def target_problem(target: str, delivery: DeliverySettings) -> str | None:
    """Why a watch may not name `target` (None: it may): unknown, a folder outside the
    digest folder, or a webhook whose address is refused by the guard."""
    try:
        kind, address = parse_target(target)
        if kind == "file":
            file_folder(address, delivery.folder)
        elif kind != "mailto":
            check_url(address, allow=allowlist(delivery))
    except DeliveryError as error:
        return str(error)
    except UnsafeURLError as error:
        return f"{target}: {error.reason}"
    return None


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
    return chat_payload(kind, render(digest, "slack" if kind == "slack" else "md", lang))


def chat_payload(kind: str, text: str) -> bytes:
    """A chat message's body: Slack's mrkdwn, or Markdown for Mattermost's webhook."""
    body = (
        {"text": text, "mrkdwn": True} if kind == "slack" else {"text": text, "username": "veille"}
    )
    return json.dumps(body, ensure_ascii=False).encode()


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
    target: str,
    body: bytes,
    delivery: DeliverySettings,
    smtp: SmtpSettings,
    delivery_id: int,
) -> None:
    """Deliver the stored payload; DeliveryError with the reason when it fails."""
    kind, address = parse_target(target)
    try:
        if kind == "file":
            folder = file_folder(address, delivery.folder)
            folder.mkdir(parents=True, exist_ok=True)
            for name, content in json.loads(body).items():
                partial = folder / f".{name}.part"
                partial.write_text(content, "utf-8")
                partial.replace(folder / name)  # whole files only, even after a crash
        elif kind == "mailto":
            _smtp_send(body, smtp, allowlist(delivery))
        else:
            _post(address, body, delivery, delivery_id)
    except DeliveryError:
        raise
    except (OSError, smtplib.SMTPException, httpx.HTTPError, ValueError) as error:
        refused = refusal(error)
        if refused is not None:
            raise DeliveryError(refused.reason) from error
        raise DeliveryError(f"{type(error).__name__}: {error}") from error


def _post(url: str, body: bytes, delivery: DeliverySettings, delivery_id: int) -> None:
    allow = allowlist(delivery)
    if delivery.proxy:
        # The proxy connects, not veille: judge the target's addresses here first.
        check_url(url, allow=allow)
        parsed = httpx.URL(url)
        checked_addresses(
            parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80), allow
        )
        client = httpx.Client(proxy=delivery.proxy, trust_env=False, timeout=delivery.timeout)
    else:
        client = httpx.Client(
            transport=GuardedSyncTransport(allow), trust_env=False, timeout=delivery.timeout
        )
    with client:
        response = client.post(
            url,
            content=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "veille",
                # A receiver may drop a repeat after a crash between send and record.
                "Idempotency-Key": f"veille-delivery-{delivery_id}",
            },
        )
    if response.status_code >= 300:
        raise DeliveryError(f"HTTP {response.status_code}")


class _GuardedSMTP(smtplib.SMTP):
    """smtplib's client connecting through the address guard (TLS still checks the name)."""

    def __init__(self, allow: Allowlist, *args, **kwargs) -> None:
        self.allow = allow
        super().__init__(*args, **kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return connect_checked(host, port, self.allow, timeout)


class _GuardedSMTPSSL(smtplib.SMTP_SSL, _GuardedSMTP):
    """SMTP over TLS from the first byte: SMTP_SSL wraps the guarded socket."""


def _smtp_send(body: bytes, smtp: SmtpSettings, allow: Allowlist) -> None:
    message = message_from_bytes(body, policy=default_policy)
    context = ssl.create_default_context()
    try:
        if smtp.security == "ssl":
            client: smtplib.SMTP = _GuardedSMTPSSL(
                allow, smtp.host, smtp.port, timeout=smtp.timeout, context=context
            )
        else:
            client = _GuardedSMTP(allow, smtp.host, smtp.port, timeout=smtp.timeout)
    except UnsafeURLError as refused:
        raise DeliveryError(
            translate(
                "SMTP server {server}: {reason}",
                None,
                server=f"{smtp.host}:{smtp.port}",
                reason=refused.reason,
            )
        ) from None
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
    delivery: DeliverySettings | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    """Send the digest to each target once (see the module's notes); the stories it carried
    are remembered when at least one target got it."""
    assert digest.watch.id is not None, "a stored watch"
    smtp = smtp or SmtpSettings()
    outcomes = deliver_once(
        store,
        digest.watch.id,
        digest.key,
        targets,
        lambda target: payload(digest, target, lang, smtp),
        smtp,
        delivery,
        sleep,
    )
    if any(o.status == "sent" for o in outcomes):
        store.mark_carried(
            digest.watch.id,
            digest.key,
            [(e.story_id, len(e.sources), e.articles) for e in digest.entries],
        )
    return outcomes


def deliver_once(
    store: Store,
    watch_id: int,
    key: str,
    targets: list[str],
    render: Callable[[str], bytes],
    smtp: SmtpSettings | None = None,
    delivery: DeliverySettings | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    """Send what `render` makes for each target, once per (watch, key, target): recorded as
    pending with its payload before it is sent, marked sent or failed after; a target
    already sent is skipped, a pending one sends its stored payload."""
    smtp = smtp or SmtpSettings()
    delivery = delivery or DeliverySettings()
    retries, backoff = max(1, delivery.retries), delivery.backoff
    outcomes = []
    for target in targets:
        record = store.delivery(watch_id, key, target)
        if record is not None and record.status == "sent":
            outcomes.append(Outcome(target, "skipped", record.attempts))
            continue
        if record is None:
            try:
                body = render(target)
            except DeliveryError as error:
                outcomes.append(Outcome(target, "failed", 0, str(error)))
                continue
            record = store.begin_delivery(watch_id, key, target, body)
        attempts, error = record.attempts, None
        for attempt in range(retries):
            attempts += 1
            try:
                send(target, record.payload or b"", delivery, smtp, record.id)
                error = None
                break
            except DeliveryError as failed:
                error = str(failed)
                if attempt + 1 < retries:
                    sleep(backoff * 2**attempt)
        store.finish_delivery(record.id, "failed" if error else "sent", attempts, error)
        outcomes.append(Outcome(target, "failed" if error else "sent", attempts, error))
    return outcomes
