"""URL hygiene: redirect wrappers unwrapped, tracking parameters dropped, one canonical form."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import courlan

# courlan already strips the common trackers (utm_*, fbclid, gclid, ...); these are the
# ones French publishers and newsletters add on top.
_EXTRA_TRACKERS = re.compile(
    r"^(xtor|xtref|xts|at_[a-z_]+|ito|_ope|ref_?src|from|origin|cmp|cm_mmc|ns_[a-z_]+|"
    r"mc_[a-z]+|_hs[a-z]+|mkt_tok|oly_[a-z_]+|vero_[a-z_]+|wt_?mc|ncid|sr_share|"
    r"igshid|dclid|msclkid|yclid|twclid|__twitter_impression|amp_[a-z_]+)$",
    re.IGNORECASE,
)

_GOOGLE_HOST = re.compile(r"^(www\.)?google\.[a-z.]+$")


def unwrap_redirect(url: str) -> str:
    """The publisher URL behind a Google Alerts / Google search redirect, else `url`."""
    parts = urlsplit(url)
    if _GOOGLE_HOST.match(parts.hostname or "") and parts.path == "/url":
        query = dict(parse_qsl(parts.query))
        target = query.get("url") or query.get("q")
        if target and target.startswith(("http://", "https://")):
            return target
    return url


def clean_url(url: str) -> str:
    """Drop tracking parameters and fragments, keep everything that selects content."""
    url = unwrap_redirect(url.strip())
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    cleaned = courlan.clean_url(url) or url
    parts = urlsplit(cleaned)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _EXTRA_TRACKERS.match(k)
    ]
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), ""))


def canonical_url(url: str) -> str:
    """The identity of a page: cleaned, lower-case host, no default port, one scheme."""
    cleaned = clean_url(url)
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https"):
        return cleaned
    host = (parts.hostname or "").lower()
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    # http and https copies of one page are the same page.
    return urlunsplit(("https", host, parts.path or "/", parts.query, ""))


def domain(url: str) -> str | None:
    """Registrable domain ('lemonde.fr' for 'https://www.lemonde.fr/...')."""
    if not url.startswith(("http://", "https://")):
        return None
    found = courlan.extract_domain(url, fast=True)
    return found.lower() if found else None


# What browsers strip from both ends of a URL before reading its scheme (C0 controls, space).
_URL_EDGES = "".join(map(chr, range(0x21)))


def web_link(url: str | None) -> str | None:
    """`url` when it may be rendered as a live link (http or https), else None: a stored
    `javascript:` or `data:` address is shown, if at all, as text."""
    if url is None:
        return None
    trimmed = url.strip(_URL_EDGES)
    return trimmed if trimmed.lower().startswith(("http://", "https://")) else None
