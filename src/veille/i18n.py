"""User-facing messages: French first, English with VEILLE_LANG=en (or an English locale).

Message ids are the English text with `{named}` fields (`%(named)s` in templates); their
French is in one gettext catalogue, `locale/fr/LC_MESSAGES/veille.po`, kept up to date with
Babel (see docs/translating.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from gettext import GNUTranslations
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from veille.when import local

if TYPE_CHECKING:
    from datetime import date, datetime

    from jinja2 import Environment

CATALOGUE = Path(__file__).parent / "locale" / "fr" / "LC_MESSAGES" / "veille.po"


# The reader's language where it is not the process's: a web request's (see `speaking`).
_SPEAKING: ContextVar[str | None] = ContextVar("veille_language", default=None)


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Messages made inside (errors raised deep in the code) are in `lang`."""
    token = _SPEAKING.set(lang)
    try:
        yield
    finally:
        _SPEAKING.reset(token)


def language() -> str:
    chosen = _SPEAKING.get()
    if chosen:
        return chosen
    for name in ("VEILLE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            return "en" if value.lower().startswith("en") else "fr"
    return "fr"


@cache
def french() -> GNUTranslations:
    """The French catalogue, read from its .po once per process and compiled in memory: no
    .mo file to keep in step with it. Fuzzy entries are left out, as msgfmt does."""
    # Babel loads only here: a run in English never pays for it.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with CATALOGUE.open("rb") as po:
        catalog = read_po(po, locale="fr")
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return GNUTranslations(compiled)


def _english(lang: str | None) -> bool:
    return (lang or language()) == "en"


def N_(msgid: str) -> str:
    """Marks a message kept in a table for extraction (gettext's name, which extractors
    know); `_()` translates it where it is shown."""
    return msgid


def _(msgid: str, **fields: object) -> str:
    return translate(msgid, None, **fields)


def translate(msgid: str, lang: str | None, /, **fields: object) -> str:
    """The message in `lang` ("fr" or "en"; None: the process's language)."""
    text = msgid if _english(lang) else french().gettext(msgid)
    return text.format(**fields) if fields else text


def n_(singular: str, plural: str, n: int, /, **fields: object) -> str:
    return ntranslate(singular, plural, n, None, **fields)


def ntranslate(singular: str, plural: str, n: int, lang: str | None, /, **fields: object) -> str:
    """The singular or plural form for `n`, by the language's rule (French: 0 and 1 take
    the singular, English: 1 alone)."""
    if _english(lang):
        text = singular if n == 1 else plural
    else:
        text = french().ngettext(singular, plural, n)
    return text.format(**fields) if fields else text


def p_(context: str, msgid: str, /, **fields: object) -> str:
    """A message whose English is shared by others that French words differently: "failed"
    as a table column ("en échec") and as a line's label ("échec")."""
    text = _in_context(context, msgid, None)
    return text.format(**fields) if fields else text


def _in_context(context: str, msgid: str, lang: str | None) -> str:
    return msgid if _english(lang) else french().pgettext(context, msgid)


def long_date(day: date, lang: str | None) -> str:
    """The day in words, "3 février 2026" or "February 3, 2026" (Babel's CLDR data)."""
    # Imported here: babel.dates reads the local time zone on import, and few commands
    # write a date in words.
    from babel.dates import format_date

    return format_date(day, "long", locale="en" if _english(lang) else "fr")


def short_moment(
    value: datetime | None, time_known: bool, lang: str | None, zone: str | None = None
) -> str:
    """A stored publication time, local: "3 févr. 2026, 14:32" / "Feb 3, 2026, 14:32", or the
    day alone ("3 févr. 2026") when the page gave no time (Babel's CLDR data)."""
    from babel.dates import format_skeleton

    if value is None:
        return "—"
    locale = "en" if _english(lang) else "fr"
    when = local(value, time_known, zone)
    day = format_skeleton("yMMMd", when, locale=locale)
    return f"{day}, {format_skeleton('Hm', when, locale=locale)}" if time_known else day


def install(environment: Environment) -> None:
    """Jinja2's i18n extension on `environment`, each render translated into its `lang`
    variable ("fr", "en"; absent: the process's language).

    Newstyle gettext: `_("Hello %(name)s", name=x)` formats in the template, escaping `x`
    when autoescape is on. Jinja treats the translated text itself as markup, so messages
    used in templates hold no `<`, `&` or `"` (tests/test_i18n.py checks)."""
    from jinja2 import pass_context
    from jinja2.runtime import Context

    @pass_context
    def gettext(context: Context, msgid: str) -> str:
        return translate(msgid, context.get("lang"))

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, n: int) -> str:
        return ntranslate(singular, plural, n, context.get("lang"))

    @pass_context
    def pgettext(context: Context, msgctxt: str, msgid: str) -> str:
        return _in_context(msgctxt, msgid, context.get("lang"))

    environment.add_extension("jinja2.ext.i18n")
    # The extension adds this method to the environment; type checkers do not see it.
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext
    )
