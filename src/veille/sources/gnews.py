"""Google News RSS: search feed URLs, and the publisher behind each entry.

Entry links are opaque news.google.com/rss/articles/... redirects that cannot be resolved
offline: the fetcher follows them at fetch time, and until then an entry is known by its
publisher and title (`fallback_key`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from urllib.parse import SplitResult, urlencode, urlsplit

from veille.i18n import _

_HOST = "news.google.com"
# Google News has used each of these paths for its per-article redirect links.
_REDIRECT_PATHS = ("/rss/articles/", "/articles/", "/read/")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z]{2,4})?")
_COUNTRY = re.compile(r"[A-Za-z]{2}")
# Google appends " - Publisher"; some publishers' own titles use other dashes or a bar.
_SEPARATORS = (" - ", " – ", " — ", " | ")


def is_google_news(url: str) -> bool:
    """A Google News RSS feed (search, topic, headlines), not an article link."""
    parts = _split(url)
    path = parts.path
    return (
        parts.scheme in ("http", "https")
        and (parts.hostname or "") == _HOST
        and (path == "/rss" or path.startswith("/rss/"))
        and not path.startswith("/rss/articles/")
    )


def is_gnews_redirect(url: str) -> bool:
    """A news.google.com per-article link, which only Google can turn into the article URL."""
    parts = _split(url)
    return (
        parts.scheme in ("http", "https")
        and (parts.hostname or "") == _HOST
        and parts.path.startswith(_REDIRECT_PATHS)
    )


def _split(url: str) -> SplitResult:
    try:
        return urlsplit(url.strip())
    except ValueError:  # "http://[x": a bracketed host that is no IPv6 address
        return SplitResult("", "", "", "", "")


def gnews_search_url(query: str, lang: str = "fr", country: str = "FR") -> str:
    """The RSS feed of a Google News search, in the edition for `lang` and `country`."""
    if not _LANGUAGE.fullmatch(lang) or not _COUNTRY.fullmatch(country):
        raise ValueError(
            _("not a language and country code: {lang}, {country}", lang=lang, country=country)
        )
    if not query.strip():
        raise ValueError(_("empty Google News query"))
    country = country.upper()
    # The edition id takes the bare language ("US:en" for hl=en-US).
    edition = f"{country}:{lang.split('-')[0].lower()}"
    params = {"q": query.strip(), "hl": lang, "gl": country, "ceid": edition}
    # ":" stays readable: it is the edition separator and Google's operator syntax (site:).
    return f"https://{_HOST}/rss/search?" + urlencode(params, safe=":")


def publisher_of(entry: Mapping) -> tuple[str | None, str | None]:
    """(publisher name, publisher site URL) from a feedparser entry's <source>."""
    source = entry.get("source") or {}
    if not isinstance(source, Mapping):
        return None, None
    name = " ".join(str(source.get("title") or "").split()) or None
    href = str(source.get("href") or "").strip()
    return name, href if href.startswith(("http://", "https://")) else None


def strip_publisher_suffix(title: str, publisher: str | None) -> str:
    """'Titre - Le Monde' -> 'Titre' when the publisher is Le Monde; else the title as is.

    Without a publisher nothing is cut: a title's own last " - " part is not a name.
    """
    title = " ".join(title.split())
    name = " ".join((publisher or "").split())
    if not name:
        return title
    for separator in _SEPARATORS:
        suffix = separator + name
        if len(title) > len(suffix) and title[-len(suffix) :].casefold() == suffix.casefold():
            return title[: -len(suffix)].rstrip()
    return title


def fallback_key(title: str, publisher: str | None) -> str:
    """An identity for an entry whose link is a Google redirect: publisher and title.

    Case, accents, punctuation and spacing are folded so the same story read twice from
    two searches gives the same key.
    """
    return f"{_fold(publisher or '')}|{_fold(strip_publisher_suffix(title, publisher))}"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", bare).split())
