"""URL hygiene: redirect wrappers unwrapped, tracking parameters dropped, one canonical form.

Only parameters known to track (campaign tags, click ids) are dropped. A query string is
often what names the article (`index.php?/archives/101-titre`, `?p=123`, `?id=4`), so
anything else is kept as written: cleaning must never fold two articles into one.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote_plus, urlsplit, urlunsplit

import courlan

# Name prefixes of campaign and analytics parameters: Google Analytics (utm_), AT Internet
# (at_), Le Monde (lmd_), Matomo/Piwik, comScore (ns_), Olytics, Vero, HubSpot, AMP caches.
_TRACKER_PREFIXES = (
    "utm_",
    "at_",
    "lmd_",
    "mtm_",
    "matomo_",
    "pk_",
    "piwik_",
    "ns_",
    "oly_",
    "vero_",
    "hsa_",
    "_hs",
    "amp_",
    "fb_action_",
    "guce_",
)
# Click ids and campaign tags with a name of their own. Generic words that a site may use
# to name content ("ref", "source", "from", "id", "cid"...) are deliberately absent, unlike
# courlan's tracker pattern, which drops any name merely containing them ("affaire", "game").
_TRACKERS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "igsh",
        "li_fat_id",
        "srsltid",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "_ga",
        "_gl",
        "_openstat",
        "xtor",
        "xtref",
        "xts",
        "ito",
        "_ope",
        "cmp",
        "cm_mmc",
        "cm_ven",
        "wt_mc",
        "wt.mc_id",
        "wtmc",
        "ncid",
        "sr_share",
        "ref_src",
        "refsrc",
        "ref_url",
        "s_cid",
        "s_kwcid",
        "ef_id",
        "fb_source",
        "fb_ref",
        "action_object_map",
        "action_type_map",
        "action_ref_map",
        "guccounter",
        "__twitter_impression",
    }
)
# Characters a query may hold as they are; anything else (spaces, non-ASCII) is
# percent-encoded, and existing escapes are left alone (%2B is not +).
_QUERY_SAFE = "/?:@!$&'()*+,;=%-._~"
_GOOGLE_HOST = re.compile(r"^(www\.)?google\.[a-z.]+$")


def is_web_url(url: str | None) -> bool:
    """Whether `url` is an absolute http(s) URL with a host: the only kind an article may
    have (no javascript:, data:, vbscript:, file: or relative links)."""
    if not url:
        return False
    try:
        parts = urlsplit(url.strip())
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # "http://[x": a bracketed host that is no IPv6 address
        return False


def is_tracker(name: str) -> bool:
    """Whether a query parameter name is a known tracking parameter."""
    name = name.strip().lower()
    return name in _TRACKERS or name.startswith(_TRACKER_PREFIXES)


def unwrap_redirect(url: str) -> str:
    """The publisher URL behind a Google Alerts / Google search redirect, else `url`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if _GOOGLE_HOST.match(parts.hostname or "") and parts.path == "/url":
        query = dict(parse_qsl(parts.query))
        target = query.get("url") or query.get("q")
        if target and target.startswith(("http://", "https://")):
            return target
    return url


def _query_parts(query: str) -> list[str]:
    """The query's `name=value` pieces as written, trackers left out, in name order (as
    courlan ordered them before: URLs stored then keep their form)."""
    kept = [
        quote(part, safe=_QUERY_SAFE)
        for part in query.split("&")
        if part and not is_tracker(unquote_plus(part.split("=", 1)[0]))
    ]
    return sorted(kept, key=lambda part: part.split("=", 1)[0])


def _clean(url: str) -> tuple[str, str, str, list[str], str] | None:
    url = unwrap_redirect(url.strip())
    if not is_web_url(url):
        return None
    parts = urlsplit(courlan.scrub_url(url))
    # courlan lower-cases the host, drops the default port and normalises the path; its
    # query cleaning is not used (see _TRACKERS).
    try:
        base = urlsplit(courlan.normalize_url(parts._replace(query="", fragment="")))
    except ValueError:
        base = parts
    # A "#!" fragment is an AJAX page address (Google's old crawling scheme), not an anchor.
    fragment = parts.fragment if parts.fragment.startswith("!") else ""
    return base.scheme, base.netloc, base.path or "/", _query_parts(parts.query), fragment


def clean_url(url: str) -> str:
    """Drop tracking parameters and anchors, keep everything that selects content."""
    cleaned = _clean(url)
    if cleaned is None:
        return url
    scheme, netloc, path, query, fragment = cleaned
    return urlunsplit((scheme, netloc, path, "&".join(query), fragment))


def canonical_url(url: str) -> str:
    """The identity of a page: cleaned, lower-case host, no default port, one scheme."""
    cleaned = _clean(url)
    if cleaned is None:
        return url
    _scheme, netloc, path, query, fragment = cleaned
    parts = urlsplit(f"//{netloc}")
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    # http and https copies of one page are the same page.
    return urlunsplit(("https", host, path, "&".join(query), fragment))


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
