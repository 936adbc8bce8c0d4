"""User-facing messages: French first, English with VEILLE_LANG=en (or an English locale).

Message ids are the English text with `{named}` fields; their French is in one gettext
catalogue, `locale/fr/LC_MESSAGES/veille.po`, kept up to date with Babel (babel.cfg).
"""

from __future__ import annotations

import os
from functools import cache
from gettext import GNUTranslations
from io import BytesIO
from pathlib import Path

CATALOGUE = Path(__file__).parent / "locale" / "fr" / "LC_MESSAGES" / "veille.po"


def language() -> str:
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
