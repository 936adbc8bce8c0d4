"""Named entities: the people, organisations and places an article names, aliases merged.

spaCy's French model finds the mentions; `mentions` cleans them (determiners, titles,
boundary errors, capitalised common words) and `merge` folds the spellings of one entity
together by general rules, within and across stories: "Musk" -> "Elon Musk", "Dourov" ->
"Pavel Durov", "UNCyber" -> "Unité nationale cyber", "Parquet de Paris" -> "parquet de
Paris". The store keeps the result (mention counts, first and last seen, stories).
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Literal

from veille.i18n import _
from veille.text import fold, stop_words, strip_accents

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token

Label = Literal["PER", "ORG", "LOC"]

# Installed spaCy packages per language, best first. en_core_web_* are not on the package
# index this project installs from (they ship as GitHub release assets), so English
# articles are skipped with that reason unless someone installs one by hand.
MODELS: dict[str, tuple[str, ...]] = {
    "fr": ("fr_core_news_md", "fr_core_news_lg", "fr_core_news_sm"),
    "en": ("en_core_web_md", "en_core_web_sm", "en_core_web_lg"),
}
# NER needs none of these; the parser alone is over half the French pipeline's time. The
# morphologizer stays: its part of speech tells "Santé" (a noun) from "Keyfactor". French
# POS comes from the morphologizer alone; English needs its attribute ruler for it.
_EXCLUDE = ["parser", "lemmatizer", "senter", "trainable_lemmatizer"]
_EXCLUDE_MORE = {"fr": ["attribute_ruler"]}
_BATCH = 16

# Model labels (WikiNER for French, OntoNotes for English) to ours. MISC is kept until
# `mentions` decides whether it names an organisation.
_LABELS = {
    "PER": "PER",
    "PERSON": "PER",
    "ORG": "ORG",
    "LOC": "LOC",
    "GPE": "LOC",
    "FAC": "LOC",
    "MISC": "MISC",
    "PRODUCT": "MISC",
}


class EntityModelMissing(LookupError):
    """No named-entity model is installed for a language; `reason` says which and why."""

    def __init__(self, language: str, reason: str) -> None:
        super().__init__(reason)
        self.language = language
        self.reason = reason


@dataclass(frozen=True)
class Mention:
    """One occurrence of a name in a text, as written there (offsets into the text)."""

    text: str
    label: Label
    start: int
    end: int
    sentence_index: int
    title: str | None = None  # honorific or role just before a person: "M.", "procureure"
    alias_of: str | None = None  # a name it is declared an alias of: X (anciennement Twitter)


@dataclass
class Entity:
    """One person, organisation or place across the articles given to `merge`."""

    name: str
    label: Label
    aliases: list[str]  # every spelling seen, the name first
    mentions: int
    article_ids: set[int] = field(default_factory=set)


# --------------------------------------------------------------------------- models


def _language(language: str | None) -> str:
    # Articles without a detected language are taken as French, the project's default.
    return (language or "fr")[:2].lower()


def model_name(language: str | None) -> str:
    """The installed spaCy package for `language`, or EntityModelMissing with the reason."""
    language = _language(language)
    try:
        import spacy.util
    except ImportError:
        raise EntityModelMissing(language, _("spaCy is not installed")) from None
    for name in MODELS.get(language, ()):
        if spacy.util.is_package(name):
            return name
    if language == "en":
        reason = _("no English NER model installed (en_core_web_sm is not on the package index)")
    elif language in MODELS:
        reason = _("named-entity model {model} is not installed", model=MODELS[language][0])
    else:
        reason = _("no named-entity model for language {language}", language=language)
    raise EntityModelMissing(language, reason)


def load(language: str | None = "fr") -> Language:
    """The language's pipeline, loaded once: NER, part of speech, sentence boundaries."""
    return _load(_language(language))


@cache
def _load(language: str) -> Language:
    import spacy

    name = model_name(language)
    _register_line_breaks()
    nlp = spacy.load(name, exclude=_EXCLUDE + _EXCLUDE_MORE.get(language, []))
    # Rule-based sentences replace the parser's: the model's NER never lets an entity
    # cross a sentence start, which keeps "Grok\nLa Commission européenne" apart.
    nlp.add_pipe("sentencizer", first=True)
    nlp.add_pipe("veille_line_breaks", after="sentencizer")
    return nlp


def _register_line_breaks() -> None:
    from spacy.language import Language

    if "veille_line_breaks" in Language.factories:
        return

    @Language.component("veille_line_breaks")
    def line_breaks(doc: Doc) -> Doc:
        # A line break ends a sentence: titles, list items and paragraphs have no period.
        for token in doc[1:]:
            if "\n" in doc[token.i - 1].text:
                token.is_sent_start = True
        return doc


# --------------------------------------------------------------------------- mentions

_HONORIFIC = re.compile(r"(?:M|MM|Mme|Mmes|Mlle|Mlles|Mr|Mrs|Ms|Dr|Pr|Me|Sir|Dame|Lord)\.?")


def _words(text: str) -> frozenset[str]:
    return frozenset(strip_accents(text).split())


# Roles that stand right before a person's name ("la procureure Laure Beccuau"), folded.
_ROLES = _words(
    """président présidente ministre pdg ceo député députée sénateur sénatrice maire juge
    procureur procureure général générale colonel commissaire chancelier chancelière roi
    reine prince princesse pape cardinal professeur docteur maître patron patronne
    fondateur fondatrice avocat avocate journaliste secrétaire directeur directrice
    milliardaire entrepreneur chanteur chanteuse acteur actrice écrivain écrivaine
    footballeur candidat candidate porte-parole ambassadeur ambassadrice préfet préfète
    senator governor judge minister chancellor mayor president founder"""
)
_DETERMINERS = _words("le la les l un une des du d the a an")
# "lUnion", "dElon": an elided article whose apostrophe a text dump lost; "ex-Twitter".
_GLUED_ELISION = re.compile(r"^[ld](?=[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ])")
_FORMER = re.compile(r"^ex-(?=\w)", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’]|['’])$")
# Where a name stops for sure: markup, a link, a spaced dash ("Musk - Noovo", a site name).
_NAME_BREAK = re.compile(r"\]\(|://|www\.|[?=\[\]{}<>|@#]|\s[-–—]\s")
# A final period is the sentence's, but for abbreviations ("Inc.", "S.A.").
_ABBREVIATION = re.compile(r"(?:\b(?:Inc|Corp|Ltd|Co|Jr|Sr|St)|\.\w+)\.$")
# Agency credits, which the model rarely tags: a closing "/ATS", "Avec AFP.", "© Reuters",
# "(avec Reuters)", or a dateline "GENÈVE (ATS) -".
_CREDIT_LINE = re.compile(
    r"^[ \t]*(?:/|©[ \t]*|\(?[Aa]vec[ \t]+)"
    r"(?P<names>[A-Z][\w-]{1,20}(?:[ \t]*[/,][ \t]*[A-Z][\w-]{1,20})*)[ \t]*\)?\.?[ \t]*$",
    re.MULTILINE,
)
_DATELINE = re.compile(r"\((?P<names>[A-Z][\w-]{1,20})\)[ \t]*[-–—]")
_CREDIT_NAME = re.compile(r"[A-Z][\w-]{1,20}")
# A byline: "Par Inti Landauro et Sudip Kar-Gupta" (names the model takes for anything).
_BYLINE = re.compile(r"\s*(?:par|by)\s+(?:[^\n]*?(?:,|\bet\b|\band\b|&)\s*)?", re.IGNORECASE)
_TRAILING = _words("de d du des la le les l et ou a au aux chez en par pour sur dans avec")
# Journalistic abbreviations the model takes for organisations.
_NOT_NAMES = frozenset({"ndlr", "ndt", "ndla", "tl dr", "ps"})
# Words that make a name an organisation's, folded (French and English).
_ORG_WORDS = _words(
    """agence association assemblee autorite avocats banque bureau caisse cabinet centre
    center chambre club collectif comite commission compagnie confederation conseil cour
    direction ecole federation fondation gendarmerie groupe group institut institute
    laboratoire ligue ministere ministry mutuelle observatoire office ong organisation
    organization parquet parti police prefecture syndicat tribunal union universite
    university agency authority bank board college committee company corp corporation
    council court department foundation inc lab labs league ltd llc party research school
    society partners holding holdings technologies systems sa sas sarl gmbh ag plc"""
)
# Institutions named after a place: "parquet de Paris", "tribunal judiciaire de Lyon".
_INSTITUTIONS = _words(
    """parquet tribunal cour prefecture mairie conseil universite barreau gendarmerie
    police ministere ambassade consulat academie rectorat hopital chu diocese chambre
    bourse musee commissariat assemblee senat parlement gouvernement banque agence
    institut"""
)
# Words allowed between such an institution and its place: "cour d'appel de Rennes".
_INSTITUTION_LINKS = _words(
    """de d du des la l judiciaire administratif administrative correctionnel
    correctionnelle municipal municipale regional regionale departemental departementale
    general generale national nationale appel cassation police commerce instance grande
    haute assises prud'hommes"""
)
# Nouns that say what kind of organisation the name after them is: "la société Quartz
# Immobilier", "la start-up grenobloise Lynred", "le fabricant de jouets Smoby", folded.
_ORG_KINDS = _words(
    """societe groupe entreprise firme compagnie constructeur fabricant equipementier
    marque enseigne maison start-up startup banque assureur operateur laboratoire syndicat
    association club equipe chaine journal quotidien hebdomadaire magazine radio
    plateforme editeur distributeur chantiers chantier geant ong parti mouvement agence
    cabinet fonds transporteur armateur groupement cooperative mutuelle fondation"""
)
# A determiner, the kind (capitalised only at a sentence start), then at most a lower-case
# "de <noun>" and two lower-case words ("grenobloise") before the name.
_ORG_KIND_BEFORE = re.compile(
    r"(?:^|\s)(?i:(?:le|la|les|un|une|du|au|aux|des|ce|cet|cette)\s+|l['’]\s*)"
    r"(?P<kind>[A-ZÀ-Þa-zà-ÿ][a-zà-ÿ]+(?:-[a-zà-ÿ]+)?)"
    r"(?P<rest>(?:\s+d(?:e\s+|['’]\s*)[a-zà-ÿ]+)?(?:\s+[a-zà-ÿ]+(?:-[a-zà-ÿ]+)?){0,2})\s+$"
)
_POSSESSIVES = _words("son sa ses leur leurs")
# Heads of a body's descriptive name, never of a place's ("Institut national de…"), folded.
_BODY_HEADS = _words(
    """institut agence office direction service conseil commission autorite observatoire
    federation fondation association comite ministere parquet tribunal cour prefecture
    gendarmerie police banque caisse syndicat confederation metropole communaute"""
)
# Heads of an event's name, which is no organisation's: "Salon international de
# l'agriculture", "Salon du livre de Paris", "Coupe du monde", folded.
_EVENT_HEADS = _words(
    """salon festival sommet tournoi championnat championnats coupe open jeux biennale
    exposition foire marathon rallye grand-prix"""
)
# Words that make a name a venue's, a place: "Accor Arena".
_VENUE_WORDS = _words("arena stadium")
# Words of a role phrase the model takes for an organisation: "Première ministre".
_ROLE_PHRASE = _ROLES | _words("premier premiere vice vice-president vice-presidente")
# Calls to share or follow a page, up to the end of their line or sentence (page chrome
# is often glued to the article): the names in one are buttons, not mentions.
_SHARE_LINE = re.compile(
    r"^[ \t]*(?:partager|partagez|suivez-nous|share|follow(?: us)?)\b"
    r"[^\n.!?]*\b(?:sur|on|via)[ \t]+[^\n.!?]*",
    re.IGNORECASE | re.MULTILINE,
)
# Name particles that stay lower-case inside a person's name: "Luca de Meo".
_PARTICLES = _words("de da del della di do dos du van von der den al el ben bin ibn")
_PREPOSITIONS = frozenset({"de", "d", "du", "des"})
_NOT_PROPER = frozenset({"NOUN", "ADJ", "VERB", "ADV", "ADP", "AUX", "PRON", "CCONJ", "SCONJ"})
_ITEM_STARTS = frozenset({"-", "–", "—", "*", "•", "(", "«", '"', ":", ";"})
# "X (anciennement Twitter)", "Unité nationale cyber (UNCyber)".
_PAREN_OPEN = re.compile(
    r"\s*\(\s*(?P<marker>(?:anciennement|autrefois|auparavant|précédemment|alias|dit|dite|"
    r"formerly|previously|aka)\b\s*[-:]?\s*|ex-|ex\s+)?",
    re.IGNORECASE,
)
_PAREN_CLOSE = re.compile(r"\s*\)")
_PAREN_ACRONYM = re.compile(r"\s*\(\s*([A-Z][\w&.-]{1,12})\s*\)")


def _fold_token(text: str) -> str:
    return strip_accents(text.lower()).replace("’", "'")


def _is_capitalised(text: str) -> bool:
    """Written as a name: "Musk", "UNCyber", "xAI" (a capital first or inside)."""
    return any(c.isupper() for c in text)


def _is_acronym(text: str) -> bool:
    """One word of 2-10 letters with at least two capitals, first one too: "UE", "UNCyber"."""
    letters = re.sub(r"[.&-]", "", text)
    return (
        2 <= len(letters) <= 10
        and letters.isalpha()
        and letters[0].isupper()
        and sum(c.isupper() for c in letters) >= 2
    )


def _org_like(text: str) -> bool:
    """A MISC name that reads as an organisation's: an organisation word in a longer name
    ("Center for Countering Digital Hate"), or a brand's inner capital ("VKontakte")."""
    words = text.split()
    if len(words) > 1:
        return any(fold(w) in _ORG_WORDS for w in words)
    word = words[0] if words else ""
    return any(c.isupper() for c in word[1:]) and any(c.islower() for c in word)


def _starts_item(token: Token) -> bool:
    """First word of a sentence, a line, a list item or a bracket."""
    if token.is_sent_start or token.i == 0:
        return True
    previous = token.doc[token.i - 1]
    return previous.is_space or previous.text in _ITEM_STARTS


@dataclass
class _Draft:
    """A mention being cleaned: a token range of the doc and its character offsets."""

    first: int  # token indices, end exclusive
    last: int
    label: str
    start: int  # character offsets
    end: int
    title: str | None = None
    alias_of: str | None = None


def _is_title(token: Token, label: str) -> bool:
    if _HONORIFIC.fullmatch(token.text):
        return True
    return label == "PER" and _fold_token(token.text) in _ROLES


def _clean(doc: Doc, text: str, span: Span, label: str) -> list[_Draft]:
    """The span trimmed to the name itself, split where the model glued two; [] if none."""
    i, j = span.start, span.end
    # A title just before the name ("M. Trump", "la procureure Laure Beccuau").
    title = doc[i - 1].text if i > 0 and _is_title(doc[i - 1], "PER") else None
    # Leading punctuation, determiners ("la France"; a capitalised one only for a place:
    # it belongs to "Le Monde" and "Les Echos"), titles inside the span.
    while i < j - 1:
        token = doc[i]
        word = _fold_token(token.text).rstrip("'")
        if (
            token.is_punct
            or token.is_space
            or (word in _DETERMINERS and (token.text[0].islower() or label == "LOC"))
        ):
            i += 1
        elif _is_title(token, label):
            title = token.text
            i += 1
        else:
            break
    # Trailing punctuation, function words ("Perquisition chez"), a possessive's "s".
    while j > i:
        token = doc[j - 1]
        word = _fold_token(token.text)
        if token.is_punct or token.is_space or word in _TRAILING or (word == "s" and j - i > 1):
            j -= 1
        else:
            break
    if i >= j:
        return []
    # A lower-case start: an institution ("gendarmerie française", "conseil de Tesla") is
    # an organisation's name; otherwise the name starts at the first capitalised word
    # ("affaire Telegram" -> "Telegram").
    if not _is_capitalised(doc[i].text):
        if _fold_token(doc[i].text) in _INSTITUTIONS:
            label = "ORG"
        else:
            k = next((k for k in range(i, j) if _is_capitalised(doc[k].text)), None)
            if k is None:
                return []
            i = k
    start, end = doc[i].idx, doc[j - 1].idx + len(doc[j - 1].text)
    cut = _NAME_BREAK.search(text, start, end)
    if cut:
        end = len(text[start : cut.start()].rstrip(" .,;:'’\"-")) + start
        if not _is_capitalised(text[start:end]):
            return []
    prefix = _GLUED_ELISION.match(doc[i].text) or _FORMER.match(doc[i].text)
    if prefix:
        start += prefix.end()
    possessive = _POSSESSIVE.search(text, start, end)
    if possessive:
        end -= len(possessive.group(0))
    if text.endswith(".", start, end) and not _ABBREVIATION.search(text[start:end]):
        end -= 1  # "X." ending a sentence
    if end <= start:
        return []
    # "X. Elon Musk": a one-letter sentence end glued to the full name after it. Initials
    # come before a single surname ("J. K. Rowling", "George W. Bush") and stay.
    if (
        j - i >= 3
        and re.fullmatch(r"[A-Z]\.", doc[i].text)
        and all(re.fullmatch(r"[A-ZÀ-Þ][\w’'-]+", doc[k].text) for k in range(i + 1, j))
    ):
        head = _Draft(i, i + 1, "ORG" if label == "PER" else label, start, start + 1)
        return [head, _Draft(i + 1, j, label, doc[i + 1].idx, end, title)]
    return [_Draft(i, j, label, start, end, title)]


def _is_junk(doc: Doc, text: str, draft: _Draft, language: str) -> bool:
    name = text[draft.start : draft.end]
    folded = fold(name)
    if not folded or not any(c.isalpha() for c in name) or folded in _NOT_NAMES:
        return True
    if not name.isupper() and (folded in stop_words(language) or folded in stop_words("fr")):
        return True  # "Il", "Elle" (but "US" is a country)
    if len(name) == 1 and not (name.isupper() and draft.label in {"ORG", "MISC"}):
        return True  # one letter names an organisation at most (X, the network)
    if draft.label != "LOC" and _is_rubric(doc, draft):
        return True
    line = _SHARE_LINE.match(text, text.rfind("\n", 0, draft.start) + 1)
    if line and line.end() >= draft.end:
        return True  # "Partager sur LinkedIn"
    words = [_fold_token(t.text) for t in doc[draft.first : draft.last]]
    if draft.label in {"ORG", "MISC"}:
        head = next((w for w in words if w.rstrip("'") not in _DETERMINERS), "")
        if head in _EVENT_HEADS:
            return True  # an event, none of the kinds kept
        if words[0] in _ROLE_PHRASE and all(
            w in _ROLE_PHRASE or t.text.islower()
            for w, t in zip(words, doc[draft.first : draft.last], strict=True)
        ):
            return True  # "Première ministre italienne": a role, named by the person after
    # A capitalised common word opening a sentence or list item ("Identité, gouvernance
    # et ...", "Coup de tonnerre"): the model's part of speech says noun, not proper
    # noun, and the word is in its vocabulary (a brand opening a title, "Infinigate
    # face aux ...", is not); a later capital makes a name ("Ensemble pour la République").
    first = doc[draft.first]
    # A place too: "Espace : la fusée…", "Maritime, le salon…", "Abonnez-vous" (a verb).
    return (
        first.pos_ in _NOT_PROPER
        and _starts_item(first)
        and len(first.text) >= 3
        and first.text[0].isupper()
        and first.text[1:].islower()
        and not any(_is_capitalised(t.text) for t in doc[draft.first + 1 : draft.last])
        and doc.vocab.has_vector(first.text.lower())
    )


def _is_rubric(doc: Doc, draft: _Draft) -> bool:
    """A section label standing as a sentence of its own before the text: "Basket. Victor
    Wembanyama a inscrit…", "Procès. La cour d'assises…". An organisation is named in a
    sentence, not as one (places are spared: a dateline "Washington. Le président…")."""
    first, end = doc[draft.first], draft.last
    return (
        _starts_item(first)
        and not _is_acronym(first.text)
        and all(t.text.islower() for t in doc[draft.first + 1 : end])
        and end + 1 < len(doc)
        and doc[end].text == "."
        and "\n" not in doc[end].whitespace_
        and not doc[end + 1].is_space
    )


# "secrétaire" is no portfolio head: "secrétaire général de l'Otan" names an employer.
_PORTFOLIO_HEADS = frozenset({"ministre", "ministres"})
_MINISTRY_HEADS = frozenset({"ministere", "ministeres", "secretariat"})


def _portfolios(doc: Doc, drafts: list[_Draft]) -> list[_Draft]:
    """An organisation-like name right after "ministre de/du/des (la/l')" is a portfolio,
    dropped ("ministre des Affaires étrangères"); after "ministère", the ministry, whose
    name starts there ("ministère des Armées")."""
    result = []
    for draft in drafts:
        head = _portfolio_head(doc, draft) if draft.label in {"ORG", "MISC"} else None
        if head is not None:
            if _fold_token(doc[head].text) not in _MINISTRY_HEADS:
                continue
            draft = replace(draft, first=head, start=doc[head].idx, label="ORG", title=None)
        result.append(draft)
    return result


def _portfolio_head(doc: Doc, draft: _Draft) -> int | None:
    k = draft.first - 1
    while k >= 0 and _fold_token(doc[k].text).rstrip("'") in {"de", "du", "des", "la", "l", "d"}:
        k -= 1
    if k == draft.first - 1:
        return None
    while k > 0 and doc[k].pos_ == "ADJ" and doc[k].text.islower() and draft.first - k < 5:
        k -= 1  # "le ministre qatari des Affaires étrangères"
    heads = _PORTFOLIO_HEADS | _MINISTRY_HEADS
    return k if k >= 0 and _fold_token(doc[k].text) in heads else None


def _extend_institutions(doc: Doc, text: str, drafts: list[_Draft]) -> list[_Draft]:
    """An organisation word tagged alone, extended by the adjectives that name it:
    "Conseil" -> "Conseil constitutionnel", "Cour" -> "Cour suprême"."""
    result = []
    taken = {d.first for d in drafts}
    for draft in drafts:
        last = doc[draft.last - 1]
        # A place too when its word names a body: "Confédération"/LOC of "Confédération
        # paysanne".
        if (draft.label in {"ORG", "MISC"} and _fold_token(last.text) in _ORG_WORDS) or (
            draft.label == "LOC" and _fold_token(last.text) in _BODY_HEADS
        ):
            j = draft.last
            while (
                j < len(doc)
                and j not in taken
                and j - draft.last < 3
                and doc[j].pos_ == "ADJ"
                and doc[j].text[:1].islower()
                and doc[j - 1].whitespace_ != ""
            ):
                j += 1
            if j > draft.last:
                end = doc[j - 1].idx + len(doc[j - 1].text)
                draft = replace(draft, last=j, end=end, label="ORG")
        result.append(draft)
    return result


def _coordinated(doc: Doc, draft: _Draft) -> int:
    """Where an institution's descriptive name ends once its coordinated complements are
    added back: the model often stops at "et" ("Service départemental d'incendie" of
    "… d'incendie et de secours", "Institut national de la statistique et des études
    économiques").
    Only a name already built as head + "de" + lower-case complement is extended, and
    only over "et de/d'/des/du (la/l') <lower-case words>"."""
    words = [_fold_token(t.text).rstrip("'") for t in doc[draft.first : draft.last]]
    if not doc[draft.last - 1].text.islower():
        return draft.last
    j = draft.last
    if not set(words[1:]) & _PREPOSITIONS:
        # "Office français" of "Office français de la biodiversité": a body's head and
        # its adjectives take one complement back.
        if words[0] not in _BODY_HEADS:
            return draft.last
        j = _complement(doc, j)
        if j == draft.last:
            return j
    while j + 2 < len(doc) and doc[j].lower_ == "et":
        k = _complement(doc, j + 1)
        if k == j + 1:
            break
        j = k
    return j


def _complement(doc: Doc, k: int) -> int:
    """The end of "de/d'/des/du (la/l') <lower-case noun> <lower-case adjectives>" from
    token k, or k when none starts there."""
    start = k
    if k >= len(doc) or _fold_token(doc[k].text).rstrip("'") not in _PREPOSITIONS:
        return start
    k += 1
    if k < len(doc) and _fold_token(doc[k].text).rstrip("'") in {"la", "l"}:
        k += 1
    if k >= len(doc) or not (doc[k].is_alpha and doc[k].text.islower() and doc[k].pos_ == "NOUN"):
        return start
    k += 1
    while k < len(doc) and doc[k].text.islower() and doc[k].pos_ == "ADJ":
        k += 1
    return k


def _descriptive_head(doc: Doc, draft: _Draft) -> bool:
    """An organisation named by what it is (a head word, then lower-case words), which a
    place after it completes: "Service départemental d'incendie et de secours de l'Isère"."""
    head = _fold_token(doc[draft.first].text)
    return (head in _ORG_WORDS or head in _INSTITUTIONS or head in _BODY_HEADS) and any(
        t.is_alpha and t.text.islower() for t in doc[draft.first + 1 : draft.last]
    )


def _complete_institutions(doc: Doc, drafts: list[_Draft]) -> list[_Draft]:
    """Descriptive organisation names extended over the complements the model left out:
    coordinated ones ("… d'incendie et de secours") and the place the institution serves
    ("… de secours de l'Isère"), the place then being part of the name."""
    result: list[_Draft] = []
    skip: set[int] = set()
    for n, draft in enumerate(drafts):
        if n in skip:
            continue
        if draft.label == "LOC" and _fold_token(doc[draft.first].text) in _BODY_HEADS:
            # "Institut national de la statistique…"/LOC: a body named by what it is.
            draft = replace(draft, label="ORG") if _descriptive_head(doc, draft) else draft
        if draft.label == "ORG" and _descriptive_head(doc, draft):
            j = _coordinated(doc, draft)
            if j > draft.last and all(not (draft.last <= d.first < j) for d in drafts):
                draft = replace(draft, last=j, end=doc[j - 1].idx + len(doc[j - 1].text))
            place = drafts[n + 1] if n + 1 < len(drafts) else None
            between = (
                [_fold_token(t.text).rstrip("'") for t in doc[draft.last : place.first]]
                if place
                else []
            )
            if (
                place is not None
                and place.label == "LOC"
                and between[:1]
                and between[0] in _PREPOSITIONS
                and set(between[1:]) <= {"la", "l"}
                and len(between) <= 2
            ):
                draft = replace(draft, last=place.last, end=place.end)
                skip.add(n + 1)
        result.append(draft)
    return result


def _person_shaped(doc: Doc, draft: _Draft) -> bool:
    """Two or more capitalised words (name particles aside), none an organisation word or
    an acronym, and not a known organisation: "Tedros Adhanom Ghebreyesus"."""
    tokens = doc[draft.first : draft.last]
    if len(tokens) < 2 or not tokens[0].text[:1].isupper():
        return False
    for token in tokens:
        folded = _fold_token(token.text)
        if folded in _PARTICLES or token.text == "-":
            continue
        if not re.fullmatch(r"[A-ZÀ-Þ][\w'’-]*", token.text) or _is_acronym(token.text):
            return False
        if folded in _ORG_WORDS or folded in _INSTITUTIONS:
            return False
    return name_key(tokens.text) not in KNOWN_ORGANISATIONS


def _role_around(doc: Doc, draft: _Draft) -> str | None:
    """The role a name stands in apposition to: "Son directeur, X," or "X, sa présidente"."""
    if draft.first >= 2 and doc[draft.first - 1].text == ",":
        for k in range(draft.first - 2, max(-1, draft.first - 5), -1):
            if _fold_token(doc[k].text) in _ROLES:
                return doc[k].text
            if not doc[k].text.islower():
                break
    after = draft.last
    if (
        after + 2 < len(doc)
        and doc[after].text == ","
        and _fold_token(doc[after + 1].text) in _POSSESSIVES
        and _fold_token(doc[after + 2].text) in _ROLES
    ):
        return doc[after + 2].text
    return None


def _appositions(doc: Doc, drafts: list[_Draft]) -> list[_Draft]:
    """A full name in apposition to a person's role is a person's, whatever the model says
    ("Son directeur, Tedros Adhanom Ghebreyesus,"/ORG)."""
    result = []
    for draft in drafts:
        if draft.label != "PER" and _person_shaped(doc, draft):
            role = _role_around(doc, draft)
            if role is not None:
                draft = replace(draft, label="PER", title=role)
        result.append(draft)
    return result


def _org_kinds(doc: Doc, text: str, drafts: list[_Draft]) -> list[_Draft]:
    """A name right after a noun saying what kind of organisation it is ("la société
    Quartz Immobilier", "la start-up grenobloise Lynred", "le fabricant de jouets Smoby") is
    an organisation's, whatever the model says."""
    result = []
    for draft in drafts:
        if draft.label != "ORG" and not draft.title:
            before = _ORG_KIND_BEFORE.search(text, max(0, draft.start - 80), draft.start)
            if before and _fold_token(before.group("kind")) in _ORG_KINDS:
                between = doc.char_span(before.start("rest"), draft.start, alignment_mode="expand")
                words = [t for t in between or () if not t.is_space]
                # "le groupe de Marine Le Pen": a name after "de" is the kind's owner.
                if not (words and words[-1].pos_ == "ADP") and all(
                    t.pos_ not in {"VERB", "AUX", "ADV", "PRON", "DET", "CCONJ", "SCONJ"}
                    and (t.pos_ != "ADP" or _fold_token(t.text).rstrip("'") == "de")
                    for t in words
                ):
                    draft = replace(draft, label="ORG")
        result.append(draft)
    return result


def _venues(doc: Doc, drafts: list[_Draft]) -> list[_Draft]:
    """A name ending in a venue's word is a place's, whoever it is named after: "Accor
    Arena"/ORG."""
    return [
        replace(d, label="LOC")
        if d.label in {"ORG", "MISC"}
        and d.last - d.first >= 2
        and _fold_token(doc[d.last - 1].text) in _VENUE_WORDS
        else d
        for d in drafts
    ]


def _predicates(doc: Doc, drafts: list[_Draft]) -> list[_Draft]:
    """An organisation's span that swallowed its sentence's verb, cut before it: the model
    reads "l'agriculture alerte sur…" or "transports routiers menace de bloquer…" as one name
    when the verb is also a noun or an adjective. The evidence: no finite verb in the
    sentence outside the span; the verb: the last lower-case word right after a noun or
    an adjective that a determiner follows (inside the span) or a preposition or
    determiner follows (after it)."""
    result = []
    for draft in drafts:
        if draft.label in {"ORG", "MISC"} and draft.last - draft.first >= 3:
            sentence = doc[draft.first].sent
            outside = [t for t in sentence if not draft.first <= t.i < draft.last]
            if not any("Fin" in t.morph.get("VerbForm") for t in outside):
                cut = None
                for k in range(draft.first + 1, draft.last):
                    token, before = doc[k], doc[k - 1]
                    after = doc[k + 1] if k + 1 < len(doc) else None
                    if (
                        token.is_alpha
                        and token.text.islower()
                        and before.pos_ in {"NOUN", "ADJ", "PROPN"}
                        and after is not None
                        and (
                            after.pos_ == "DET"
                            if k + 1 < draft.last
                            else after.pos_ in {"ADP", "DET"}
                        )
                    ):
                        cut = k
                if cut is not None:
                    last = doc[cut - 1]
                    draft = replace(draft, last=cut, end=last.idx + len(last.text))
        result.append(draft)
    return result


def _institutions(doc: Doc, drafts: list[_Draft]) -> list[_Draft]:
    """A place extended to the institution named after it: "parquet de Paris" (the model
    tags only "Paris"), "préfecture de police de Lyon", "cour d'appel de Rennes"."""
    absorbed: set[int] = set()
    for n, draft in enumerate(drafts):
        if draft.label != "LOC" or draft.first < 2:
            continue
        if _fold_token(doc[draft.first - 1].text).rstrip("'") not in _PREPOSITIONS:
            continue
        head = None
        k = draft.first - 2
        while k >= 0 and draft.first - k <= 6:
            word = _fold_token(doc[k].text).rstrip("'")
            if word in _INSTITUTIONS:
                head = k
            elif word not in _INSTITUTION_LINKS:
                break
            k -= 1
        if head is None:
            continue
        # The model sometimes tags the capitalised head alone ("Parquet"/LOC).
        absorbed.update(
            m for m, other in enumerate(drafts) if m != n and head <= other.first < draft.first
        )
        drafts[n] = replace(draft, first=head, label="ORG", start=doc[head].idx)
    return [d for m, d in enumerate(drafts) if m not in absorbed]


def _parentheses(doc: Doc, text: str, drafts: list[_Draft]) -> list[_Draft]:
    """Aliases declared in brackets: "X (anciennement Twitter)", "Unité nationale cyber
    (UNCyber)", "Commission nationale de l'informatique et des libertés (CNIL)"."""
    result = list(drafts)
    starts = {d.start for d in drafts}
    for n, draft in enumerate(drafts):
        if draft.label not in {"ORG", "MISC"}:
            continue
        name = text[draft.start : draft.end]
        following = drafts[n + 1] if n + 1 < len(drafts) else None
        if following is not None and following.label != "PER":
            opening = _PAREN_OPEN.fullmatch(text, draft.end, following.start)
            if opening and _PAREN_CLOSE.match(text, following.end):
                other = text[following.start : following.end]
                if (
                    opening.group("marker")
                    or _loose_acronym(other, name)
                    or _loose_acronym(name, other)
                ):
                    result[n] = replace(result[n], label="ORG")
                    result[n + 1] = replace(result[n + 1], label="ORG", alias_of=name)
                continue
        # An acronym in brackets the model did not tag.
        bracket = _PAREN_ACRONYM.match(text, draft.end)
        if bracket and bracket.start(1) not in starts and _loose_acronym(bracket.group(1), name):
            span = doc.char_span(bracket.start(1), bracket.end(1), alignment_mode="expand")
            if span is not None:
                start, end = bracket.span(1)
                result[n] = replace(result[n], label="ORG")
                result.append(_Draft(span.start, span.end, "ORG", start, end, alias_of=name))
    return sorted(result, key=lambda d: d.start)


def _credits(doc: Doc, text: str, drafts: list[_Draft]) -> list[_Draft]:
    """Agencies credited at the end or in the dateline, as organisations."""
    taken = [(d.start, d.end) for d in drafts]
    added = []
    for pattern in (_CREDIT_LINE, _DATELINE):
        for credit in pattern.finditer(text):
            for name in _CREDIT_NAME.finditer(text, *credit.span("names")):
                start, end = name.span()
                if any(a < end and start < b for a, b in taken):
                    continue
                span = doc.char_span(start, end, alignment_mode="expand")
                if span is not None:
                    added.append(_Draft(span.start, span.end, "ORG", start, end))
                    taken.append((start, end))
    return sorted(drafts + added, key=lambda d: d.start) if added else drafts


def _bylines(text: str, drafts: list[_Draft]) -> list[_Draft]:
    """Names in a byline are people's, whatever the model says ("Inti Landauro"/ORG)."""
    result = []
    for draft in drafts:
        line_start = text.rfind("\n", 0, draft.start) + 1
        name = text[draft.start : draft.end].split()
        if (
            len(name) >= 2
            and all(word[:1].isupper() for word in name)
            and _BYLINE.fullmatch(text, line_start, draft.start)
        ):
            draft = replace(draft, label="PER")
        result.append(draft)
    return result


def _resolve_misc(text: str, drafts: list[_Draft]) -> list[_Draft]:
    """MISC (works, events, products, laws...) becomes ORG when it names an organisation:
    tagged ORG elsewhere in the text, or shaped like one; the rest is dropped."""
    orgs = {fold(text[d.start : d.end]) for d in drafts if d.label == "ORG"}
    result = []
    for draft in drafts:
        if draft.label == "MISC":
            name = text[draft.start : draft.end]
            if (
                fold(name) not in orgs
                and not _org_like(name)
                and name_key(name) not in KNOWN_ORGANISATIONS
            ):
                continue
            draft = replace(draft, label="ORG")
        result.append(draft)
    return result


def _doc_mentions(doc: Doc, language: str) -> list[Mention]:
    text = doc.text  # built anew on each access: read once
    drafts: list[_Draft] = []
    for span in doc.ents:
        label = _LABELS.get(span.label_)
        if label is not None:
            found = _clean(doc, text, span, label)
            drafts.extend(d for d in found if not _is_junk(doc, text, d, language))
    drafts = _venues(doc, _predicates(doc, _portfolios(doc, drafts)))
    drafts = _institutions(doc, _credits(doc, text, _bylines(text, drafts)))
    drafts = _extend_institutions(doc, text, drafts)
    drafts = _org_kinds(doc, text, _appositions(doc, drafts))
    drafts = _resolve_misc(text, _parentheses(doc, text, drafts))
    drafts = _complete_institutions(doc, drafts)
    starts = [t.i for t in doc if t.is_sent_start]
    return [
        Mention(
            text=text[d.start : d.end],
            label=d.label,  # type: ignore[arg-type]  # MISC is resolved by now
            start=d.start,
            end=d.end,
            sentence_index=max(0, bisect.bisect_right(starts, d.first) - 1),
            title=d.title,
            alias_of=d.alias_of,
        )
        for d in drafts
    ]


def mentions(text: str, language: str | None = "fr") -> list[Mention]:
    """Names of people (PER), organisations (ORG) and places (LOC) in `text`, in order.

    Raises EntityModelMissing when no model is installed for the language.
    """
    found, skipped = find_mentions({0: (text, language)})
    if 0 in skipped:
        raise EntityModelMissing(_language(language), skipped[0])
    return found[0]


def find_mentions(
    texts: dict[int, tuple[str, str | None]], batch_size: int = _BATCH
) -> tuple[dict[int, list[Mention]], dict[int, str]]:
    """Mentions of many texts, {id: (text, language)}, batched through spaCy.

    Returns the mentions by id and, for each text skipped, the reason (no model for its
    language) for the caller to record.
    """
    found: dict[int, list[Mention]] = {}
    skipped: dict[int, str] = {}
    by_language: dict[str, list[int]] = defaultdict(list)
    for key, (_text, language) in texts.items():
        by_language[_language(language)].append(key)
    for language, keys in by_language.items():
        try:
            nlp = load(language)
        except EntityModelMissing as missing:
            skipped.update(dict.fromkeys(keys, missing.reason))
            continue
        # A text beyond spaCy's limit is cut: an article that long is a dump, not news.
        stream = (texts[key][0][: nlp.max_length - 1] for key in keys)
        for key, doc in zip(keys, nlp.pipe(stream, batch_size=batch_size), strict=True):
            found[key] = _doc_mentions(doc, language)
    return found, skipped


# --------------------------------------------------------------------------- by name


def readable(language: str | None) -> bool:
    """Whether a named-entity model reads the language here."""
    try:
        model_name(language)
    except EntityModelMissing:
        return False
    return True


def match_names(text: str, known: list[Entity]) -> list[Mention]:
    """Mentions of `known` entities in a text no model reads (an English or German article
    of a French story), found by their spellings as whole words, longest first.

    The limit: only names already known are found (from the story's other articles, in a
    language a model reads), written as they were there; a new name, or one declined or
    transliterated otherwise ("Dourov" for a known "Durov" only through its known
    spellings), is missed."""
    spellings = sorted(
        {(alias, entity.label) for entity in known for alias in entity.aliases},
        key=lambda al: -len(al[0]),
    )
    taken: list[tuple[int, int]] = []
    found: list[Mention] = []
    for alias, label in spellings:
        # Short spellings only as acronyms or names in capitals ("UE", "X"): "Le" is no name.
        if len(alias) < 3 and not alias.isupper():
            continue
        for match in re.finditer(rf"(?<![\w-]){re.escape(alias)}(?![\w-])", text):
            start, end = match.span()
            if any(a < end and start < b for a, b in taken):
                continue
            taken.append((start, end))
            sentence = text.count("\n", 0, start) + text.count(". ", 0, start)
            found.append(Mention(alias, label, start, end, sentence))
    return sorted(found, key=lambda m: m.start)


# --------------------------------------------------------------------------- merging

_KEY_TITLES = re.compile(r"^(?:(?:m|mm|mme|mmes|mlle|mr|mrs|ms|dr|pr|sir)\s+)+")
_KEY_DETERMINERS = re.compile(r"^(?:(?:le|la|les|l|the)\s+)+(?=\S)")
_FUNCTION_WORDS = _words("de du des la le les l d et en pour sur a au aux of the and for in on to")


def name_key(text: str) -> str:
    """Comparison key of a name: folded (case, accents, apostrophes), without a trailing
    possessive, a leading article or a title. "L’Élysée’s" -> "elysee"."""
    key = fold(_POSSESSIVE.sub("", text.strip()))
    key = _KEY_DETERMINERS.sub("", _KEY_TITLES.sub("", key))
    words = key.split()
    while len(words) > 1 and words[0] in _ROLES:
        words = words[1:]
    return " ".join(words)


# French and English transliterations of one name (Russian, Ukrainian, Arabic...):
# "Dourov"/"Durov", "Tchaïkovski"/"Chaikovsky", "Zelensky"/"Zelenskyy", "Romanoff"/"Romanov".
_PHONETIC = [
    (re.compile(r"tsch|tch|sch|sh"), "ch"),
    (re.compile(r"zh"), "j"),
    (re.compile(r"kh"), "h"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"ck|q"), "k"),
    (re.compile(r"c(?=[aou])"), "k"),
    (re.compile(r"gu(?=[eiy])"), "g"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"ou|oo"), "u"),
    (re.compile(r"w"), "v"),
    (re.compile(r"y|j(?=$|[^aeiou])"), "i"),
    (re.compile(r"ff$"), "v"),
    (re.compile(r"(.)\1+"), r"\1"),
]


@cache
def phonetic(word: str) -> str:
    """Orthographic key of one folded word, equal across transliterations."""
    for pattern, repl in _PHONETIC:
        word = pattern.sub(repl, word)
    return word


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (names are short: plain dynamic programming)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@cache
def same_word(a: str, b: str) -> bool:
    """Two folded name words are one: equal, or transliteration variants (one phonetic key
    and a small edit distance, so unrelated names that share a key stay apart)."""
    if a == b:
        return True
    if min(len(a), len(b)) < 4 or phonetic(a) != phonetic(b):
        return False
    return _distance(a, b) <= max(2, max(len(a), len(b)) // 3)


def _initial_or_same(a: str, b: str) -> bool:
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    return same_word(a, b)


def _subsumes(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    """`short` names the person `long` names: same first and last names, its other words
    found in order ("Pavel Dourov" in "Pavel Valerievitch Dourov"), initials standing for
    names ("E. Musk", "J. K. Rowling")."""
    if len(short) < 2 or len(short) > len(long) or short == long:
        return False
    if not _initial_or_same(short[0], long[0]) or not same_word(short[-1], long[-1]):
        return False
    if len(short) == len(long) and not any(len(w) == 1 for w in short + long):
        return False  # equal length without initials: a spelling variant, joined apart
    rest = iter(long[1:-1])
    return all(any(_initial_or_same(w, other) for other in rest) for w in short[1:-1])


@cache
def _initialisms(name: str) -> frozenset[str]:
    """Acronyms a name can have: initials of its content words ("CNIL" for "Commission
    nationale de l'informatique et des libertés") or of all its words, or initials then
    the last word whole ("UNCyber"); for the name and its head before a complement
    ("Unité nationale cyber" of "Unité nationale cyber de la gendarmerie")."""
    words = re.findall(r"[^\W\d_]+", strip_accents(name).lower())
    cuts = [len(words)] + [k for k in range(2, len(words)) if words[k] in _FUNCTION_WORDS]
    forms: set[str] = set()
    for cut in cuts:
        head = words[:cut]
        content = [w for w in head if w not in _FUNCTION_WORDS]
        for seq in (content, head):
            if len(seq) >= 2:
                forms.add("".join(w[0] for w in seq))
                forms.add("".join(w[0] for w in seq[:-1]) + seq[-1])
        # Some acronyms stop short: "SNCF", Société nationale des chemins de fer français.
        forms.update("".join(w[0] for w in content[:k]) for k in range(3, len(content)))
    return frozenset(forms)


def acronym_of(acronym: str, name: str) -> bool:
    """`acronym` abbreviates `name`: "UE" / "Union européenne", "UNCyber" / "Unité
    nationale cyber", "CNIL" / "Commission nationale de l'informatique et des libertés"."""
    if not _is_acronym(acronym) or len(name.split()) < 2:
        return False
    return fold(re.sub(r"[.&-]", "", acronym)) in _initialisms(name)


def _loose_acronym(acronym: str, name: str) -> bool:
    """The looser test for an acronym declared in brackets: its letters in order in the
    name, starting with the name's first letter ("FIC" for "Forum InCyber")."""
    if not _is_acronym(acronym) or len(name) <= len(acronym):
        return False
    letters, target = fold(acronym).replace(" ", ""), fold(name).replace(" ", "")
    if not target or letters[0] != target[0]:
        return False
    rest = iter(target)
    return all(c in rest for c in letters)


@dataclass
class _Occurrence:
    article: int
    order: int
    mention: Mention
    key: str
    words: tuple[str, ...]


@dataclass
class _KeyInfo:
    """What the mentions written one way (one key) say about the name."""

    key: str
    words: tuple[str, ...]
    first: int
    votes: Counter[str] = field(default_factory=Counter)
    surfaces: Counter[str] = field(default_factory=Counter)
    titled: bool = False  # once given a title: "M. Trump"
    linked: bool = False  # declared an alias in brackets: a name, never a short form

    def _top(self, label: str) -> bool:
        return self.votes[label] > 0 and self.votes[label] == max(self.votes.values())

    @property
    def person(self) -> bool:
        return self.titled or self._top("PER")

    @property
    def org(self) -> bool:
        return not self.titled and self._top("ORG")

    @property
    def place(self) -> bool:
        return self.votes["LOC"] * 2 > sum(self.votes.values())

    @property
    def surface(self) -> str:
        return max(self.surfaces, key=lambda s: (self.surfaces[s], s[:1].isupper(), s))


class _Union:
    """Union-find over keys; the root is the key seen first, for stable results."""

    def __init__(self, rank: Callable[[str], int]) -> None:
        self.parent: dict[str, str] = {}
        self.rank = rank

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            first, second = sorted((ra, rb), key=self.rank)
            self.parent[second] = first


class _FullNames:
    """Full names seen so far, indexed for the short-form tests."""

    def __init__(self) -> None:
        self.by_last: dict[str, list[_KeyInfo]] = defaultdict(list)
        self.by_first: dict[str, list[_KeyInfo]] = defaultdict(list)
        self.by_initials: dict[str, list[_KeyInfo]] = defaultdict(list)
        self.people: list[_KeyInfo] = []

    def add(self, info: _KeyInfo) -> None:
        if info.person:
            self.people.append(info)
            self.by_last[phonetic(info.words[-1])].append(info)
        elif len(info.words) >= 2:
            self.by_first[info.words[0]].append(info)
            for form in _initialisms(info.surface):
                self.by_initials[form].append(info)

    def candidates(self, info: _KeyInfo) -> list[str]:
        """Full names a key can be a short form of: a person's surname ("Musk", "Dourov",
        "von der Leyen"), an organisation's first word before lower-case or organisation
        words ("Commission" of "Commission européenne"), an acronym ("UE", "UNCyber")."""
        words, found = info.words, []
        acronym = _is_acronym(info.surface)
        # A surname is called a person at least once ("Tesla" the firm is not Nikola's).
        if (info.votes["PER"] or info.titled) and not info.place and not acronym:
            for other in self.by_last.get(phonetic(words[-1]), ()):
                tail = other.words[-len(words) :]
                if len(other.words) > len(words) and all(
                    same_word(a, b) for a, b in zip(words, tail, strict=True)
                ):
                    found.append(other.key)
        if len(words) == 1 and info.org:
            for other in self.by_first.get(words[0], ()):
                rest = other.surface.split()[1:]
                if other.org and all(w[:1].islower() or fold(w) in _ORG_WORDS for w in rest):
                    found.append(other.key)
        if acronym and not info.person:
            form = fold(re.sub(r"[.&-]", "", info.surface))
            found.extend(other.key for other in self.by_initials.get(form, ()))
        return list(dict.fromkeys(found))


def merge(mentions_by_article: dict[int, list[Mention]]) -> list[Entity]:
    """One entity per person, organisation or place named in the articles, its spellings
    merged; one call merges within a story or across many.

    Full names are joined first (case and accents, transliterations, middle names and
    initials, aliases declared in brackets); each short form (a surname, an acronym, an
    organisation's first word) then joins the one full name it can stand for in its own
    article, or else in all the articles, and stays apart when that is ambiguous.
    """
    occurrences: list[_Occurrence] = []
    for article in sorted(mentions_by_article):
        for mention in sorted(mentions_by_article[article], key=lambda m: (m.start, m.end)):
            key = name_key(mention.text)
            if key:
                words = tuple(key.split())
                occurrences.append(_Occurrence(article, len(occurrences), mention, key, words))
    infos: dict[str, _KeyInfo] = {}
    for occ in occurrences:
        info = infos.get(occ.key)
        if info is None:
            info = infos[occ.key] = _KeyInfo(occ.key, occ.words, first=occ.order)
        info.votes[occ.mention.label] += 1
        info.surfaces[occ.mention.text] += 1
        info.titled |= bool(occ.mention.title) and occ.mention.label != "LOC"
    links = []
    for occ in occurrences:
        target = name_key(occ.mention.alias_of) if occ.mention.alias_of else None
        if target and target in infos and target != occ.key:
            links.append((occ.key, target))
            infos[occ.key].linked = infos[target].linked = True

    # Short forms, longest keys first: a short form's candidates are full names only.
    full = _FullNames()
    candidates: dict[str, list[str]] = {}
    for info in sorted(infos.values(), key=lambda i: (-len(i.words), i.first)):
        found = [] if info.linked else full.candidates(info)
        if found:
            candidates[info.key] = found
        else:
            full.add(info)

    union = _Union(lambda key: infos[key.lstrip("\0")].first)
    for a, b in links:
        union.union(a, b)
    _join_people(full.people, union)

    # A short occurrence joins the one full name it can stand for in its article, else in
    # all the articles; otherwise it stays apart ("\0" keeps it from full names).
    in_article: dict[int, set[str]] = defaultdict(set)
    for occ in occurrences:
        if occ.key not in candidates:
            in_article[occ.article].add(union.find(occ.key))
    cluster_of: dict[int, str] = {}
    unresolved: dict[str, _KeyInfo] = {}
    for occ in occurrences:
        if occ.key not in candidates:
            cluster_of[occ.order] = union.find(occ.key)
            continue
        targets = {union.find(k) for k in candidates[occ.key]}
        label = occ.mention.label
        if label == "LOC" or (label == "ORG" and infos[occ.key].org):
            # "Washington" the city is nobody's surname, nor "Ford" the carmaker.
            targets = {t for t in targets if not infos[t].person}
        here = targets & in_article[occ.article]
        chosen = here or targets
        if len(chosen) == 1:
            cluster_of[occ.order] = next(iter(chosen))
        else:
            cluster_of[occ.order] = "\0" + occ.key
            unresolved[occ.key] = infos[occ.key]
    # Unresolved surnames spelled two ways ("Durov", "Dourov") are still one person.
    _join_people([i for i in unresolved.values() if i.person], union, prefix="\0")

    clusters: dict[str, list[_Occurrence]] = defaultdict(list)
    for occ in occurrences:
        clusters[union.find(cluster_of[occ.order])].append(occ)
    surnames = {k for k, found in candidates.items() if any(infos[c].person for c in found)}
    entities = [_entity(occs, candidates, surnames) for occs in clusters.values()]
    return sorted(entities, key=lambda e: (-e.mentions, e.name.casefold(), e.label))


def _join_people(people: list[_KeyInfo], union: _Union, prefix: str = "") -> None:
    """Spelling variants ("Pavel Dourov"), middle names and initials of one person."""
    people = sorted(people, key=lambda i: i.first)
    by_shape: dict[tuple[str, ...], list[_KeyInfo]] = defaultdict(list)
    by_last: dict[str, list[_KeyInfo]] = defaultdict(list)
    for info in people:
        shape = tuple(phonetic(w) for w in info.words)
        for other in by_shape[shape]:
            if all(same_word(a, b) for a, b in zip(info.words, other.words, strict=True)):
                union.union(prefix + other.key, prefix + info.key)
                break
        by_shape[shape].append(info)
        by_last[phonetic(info.words[-1])].append(info)
    for info in people:
        longer = {
            union.find(prefix + other.key)
            for other in by_last[phonetic(info.words[-1])]
            if _subsumes(info.words, other.words)
        }
        if len(longer) == 1:  # "George Bush" stays apart when two longer names fit
            union.union(next(iter(longer)), prefix + info.key)


# News organisations the model takes for people or places ("Al Jazeera"/PER,
# "Boursorama"/LOC): a known list corrects their kind. Folded keys (`name_key`).
KNOWN_ORGANISATIONS = frozenset(
    name_key(n)
    for n in (
        "AFP",
        "Reuters",
        "Bloomberg",
        "Associated Press",
        "BBC",
        "CNN",
        "Al Jazeera",
        "Euronews",
        "France 24",
        "France Info",
        "Franceinfo",
        "France Inter",
        "France Télévisions",
        "RFI",
        "TF1",
        "LCI",
        "BFMTV",
        "CNews",
        "Le Monde",
        "Le Figaro",
        "Libération",
        "Les Echos",
        "Mediapart",
        "L'Humanité",
        "La Croix",
        "Le Parisien",
        "Ouest-France",
        "Sud Ouest",
        "Boursorama",
        "Le Point",
        "L'Express",
        "Politico",
        "Financial Times",
        "New York Times",
        "Washington Post",
        "Wall Street Journal",
        "The Guardian",
        "Der Spiegel",
        "Süddeutsche Zeitung",
        "El País",
        "Corriere della Sera",
        "Xinhua",
        "Tass",
        "Belga",
        "Keystone-ATS",
        "Dow Jones",
        "Radio-Canada",
        "RTBF",
        "RTS",
    )
)


def _known_organisation(occs: list[_Occurrence]) -> bool:
    return any(o.key in KNOWN_ORGANISATIONS for o in occs)


def _entity(
    occs: list[_Occurrence], candidates: dict[str, list[str]], surnames: set[str]
) -> Entity:
    votes = Counter(o.mention.label for o in occs)
    label = max(("PER", "ORG", "LOC"), key=lambda lab: votes[lab])  # ties: PER, ORG, LOC
    if _known_organisation(occs):
        votes = Counter({"ORG": len(occs)})
        label = "ORG"
    titled = any(o.mention.title and o.mention.label == "PER" for o in occs)
    if label == "PER" and not titled:
        # A full name ("Le Pen" counts: two words) or the surname of one ("Musk" when
        # two Musks make it ambiguous) is a person's.
        full_name = any(
            (len(o.mention.text.split()) >= 2 or o.key in surnames) and o.mention.label == "PER"
            for o in occs
        )
        if any(len(o.words) >= 2 and set(o.words) & _ORG_WORDS for o in occs):
            label = "ORG"  # "Milestone Avocats": an organisation word outweighs the model
        elif not full_name and not (votes["PER"] == len(occs) >= 2):
            # One word, never with a first name or a title, that the model calls a person
            # once or only sometimes ("Grok", "Keyfactor"): a brand or an organisation
            # far more often than a person.
            label = "LOC" if votes["LOC"] * 2 > len(occs) else "ORG"

    counts = Counter(o.mention.text for o in occs)
    first: dict[str, int] = {}
    for o in occs:
        first.setdefault(o.mention.text, o.order)
    short = {o.mention.text for o in occs if o.key in candidates}

    def rank(surface: str) -> tuple[bool, bool, int, int]:
        # The most complete form (a full name, not a surname or an acronym), properly
        # cased, then the most frequent, then the first seen.
        complete = surface not in short and not (_is_acronym(surface) and len(counts) > 1)
        if label == "PER":
            complete = complete and len(name_key(surface).split()) >= 2
        proper = surface[:1].isupper() and not (surface.isupper() and " " in surface)
        return (not complete, not proper, -counts[surface], first[surface])

    surfaces = sorted(counts, key=rank)
    return Entity(
        name=surfaces[0],
        label=label,  # type: ignore[arg-type]
        aliases=surfaces,
        mentions=len(occs),
        article_ids={o.article for o in occs},
    )


# --------------------------------------------------------------------------- across stories


def lookup_keys(entity: Entity) -> set[str]:
    """Keys under which an entity is found again from another story: its folded spellings,
    the phonetic key of a person's or a one-word name's last word ("Musk", "Dourov" for
    "Pavel Durov"), an organisation's first word, and acronyms ("UNCyber")."""
    keys: set[str] = set()
    for alias in entity.aliases:
        key = name_key(alias)
        if not key:
            continue
        words = key.split()
        keys.add("k:" + key)
        if entity.label == "PER" or len(words) == 1:
            keys.add("p:" + phonetic(words[-1]))
        if entity.label == "ORG" and len(words) > 1:
            keys.add("p:" + phonetic(words[0]))
        if _is_acronym(alias):
            keys.add("a:" + fold(re.sub(r"[.&-]", "", alias)).replace(" ", ""))
        elif len(words) > 1:
            keys.update("a:" + form for form in _initialisms(alias))
    return keys


@dataclass
class Link:
    """New entities (indices into the story's) and known ones (indices into the candidates)
    that are one entity, with the name, label and spellings of the whole."""

    new: list[int]
    known: list[int]
    name: str
    label: Label
    aliases: list[str]


def link(new: list[Entity], known: list[Entity]) -> list[Link]:
    """Which of a story's entities are entities already known from other stories, and which
    known ones its spellings show to be one ("Pavel Durov" known, "Pavel Dourov" known,
    a story naming both).

    The rules are `merge`'s: each entity is handed to it as an article of its own, naming
    each of its spellings once; known entities come first, so an established name wins
    ties. Every entity of the story appears in exactly one link."""
    offset = len(known)
    texts: dict[int, list[Mention]] = {}
    for index, entity in enumerate([*known, *new]):
        texts[index] = [
            Mention(alias, entity.label, 100 * k, 100 * k + len(alias), k)
            for k, alias in enumerate(entity.aliases)
        ]
    merged = merge(texts)
    # One entity split by the rules (spellings tied by a bracket in its story) stays one:
    # groups sharing an entity are joined.
    parent = list(range(len(merged)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    holder: dict[int, int] = {}
    for g, entity in enumerate(merged):
        for index in entity.article_ids:
            if index in holder:
                parent[root(g)] = root(holder[index])
            else:
                holder[index] = g
    components: dict[int, list[int]] = defaultdict(list)
    for g in range(len(merged)):
        components[root(g)].append(g)
    links = []
    for groups in components.values():
        indices = sorted(set().union(*(merged[g].article_ids for g in groups)))
        ids = [i - offset for i in indices if i >= offset]
        if not ids:
            continue  # known entities this story does not name
        main = max(groups, key=lambda g: (merged[g].mentions, -g))
        aliases = list(dict.fromkeys(a for g in groups for a in merged[g].aliases))
        aliases.remove(merged[main].name)
        links.append(
            Link(
                new=ids,
                known=[i for i in indices if i < offset],
                name=merged[main].name,
                label=merged[main].label,
                aliases=[merged[main].name, *aliases],
            )
        )
    return sorted(links, key=lambda lk: lk.new[0])
