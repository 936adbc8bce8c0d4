"""User-facing messages: French first, English with VEILLE_LANG=en (or an English locale).

Message ids are the English text with `{named}` fields; the French catalogue maps them.
"""

from __future__ import annotations

import os

# fmt: off
FRENCH: dict[str, str] = {
    "no such file or folder":
        "fichier ou dossier introuvable",
    "file is {size:,} bytes, over the {limit:,}-byte limit (VEILLE_MAX_BYTES)":
        "fichier de {size:,} octets, au-delà de la limite de {limit:,} octets "
        "(VEILLE_MAX_BYTES)",
    "cannot read the file: {error}":
        "lecture du fichier impossible : {error}",
    "empty file":
        "fichier vide",
    "{what}: not HTML, text, JSONL, a feed or a WARC archive":
        "{what} : ni HTML, ni texte, ni JSONL, ni flux, ni archive WARC",
    "a sitemap lists pages to fetch: add it as a source to poll it":
        "un sitemap liste des pages à récupérer : ajoutez-le comme source à surveiller",
    "undecodable: {error}":
        "illisible : {error}",
    "not text in any known encoding":
        "aucun encodage de texte connu ne convient",
    "corrupt gzip data ({error})":
        "données gzip corrompues ({error})",
    "decompresses to over the {limit:,}-byte limit":
        "décompressé, dépasse la limite de {limit:,} octets",
    "truncated gzip file (the compressed stream ends early)":
        "fichier gzip tronqué (le flux compressé s'arrête avant la fin)",
    "no text":
        "aucun texte",
    "a list of {count} links (a digest or index), not an article; add the feed it "
    "was built from as a source instead":
        "une liste de {count} liens (un résumé ou un index), pas un article ; ajoutez "
        "plutôt comme source le flux dont il est tiré",
    "a table of {count} rows, not article text":
        "un tableau de {count} lignes, pas un texte d'article",
    "unreadable feed: {error}":
        "flux illisible : {error}",
    "malformed feed, {count} entries recovered: {error}":
        "flux mal formé, {count} entrées récupérées : {error}",
    "not a feed":
        "pas un flux",
    "feed entry without a link":
        "entrée de flux sans lien",
    "expected a JSON object, got {kind}":
        "objet JSON attendu, {kind} trouvé",
    "no text or html field (expected one of: text, content, body, html)":
        "aucun champ texte ou html (attendu : text, content, body ou html)",
    "invalid JSON at line {line}: {error}":
        "JSON invalide à la ligne {line} : {error}",
    "invalid JSON ({error} at column {column}; truncated line?)":
        "JSON invalide ({error} à la colonne {column} ; ligne tronquée ?)",
    "corrupt WARC data after byte {offset} ({error}); skipped to the next record":
        "données WARC corrompues après l'octet {offset} ({error}) ; reprise à "
        "l'enregistrement suivant",
    "record truncated: the archive ends inside it":
        "enregistrement tronqué : l'archive s'arrête en son milieu",
    "record over the {limit:,}-byte limit":
        "enregistrement au-delà de la limite de {limit:,} octets",
    "not parseable as HTML":
        "HTML impossible à analyser",
    "no article text and no title found":
        "ni texte d'article ni titre trouvés",
    "a PDF document": "un document PDF",
    "a PNG image": "une image PNG",
    "a JPEG image": "une image JPEG",
    "a GIF image": "une image GIF",
    "a ZIP archive (or office document)": "une archive ZIP (ou un document bureautique)",
    "an executable": "un exécutable",
    "a bzip2 archive": "une archive bzip2",
    "an xz archive": "une archive xz",
    "an SQLite database": "une base SQLite",
    "binary data": "des données binaires",
    "nested compressed data": "des données compressées imbriquées",
    # fetching: address safety
    "a loopback address": "une adresse de bouclage (loopback)",
    "a private address": "une adresse privée",
    "a link-local address": "une adresse lien-local",
    "the cloud metadata address": "l'adresse des métadonnées du cloud",
    "a shared address (carrier-grade NAT)": "une adresse partagée (NAT d'opérateur)",
    "a multicast address": "une adresse multicast",
    "the unspecified address": "l'adresse non spécifiée",
    "a reserved address": "une adresse réservée",
    "{address} is {kind}: refused (add it to fetch.allow to permit it)":
        "{address} est {kind} : refusée (ajoutez-la à fetch.allow pour l'autoriser)",
    "host {host} resolves to {address}, {kind}: refused (add the host or the address to "
    "fetch.allow to permit it)":
        "l'hôte {host} pointe vers {address}, {kind} : refusé (ajoutez l'hôte ou l'adresse "
        "à fetch.allow pour l'autoriser)",
    "host {host} looks like an IP address but is not a valid one":
        "l'hôte {host} ressemble à une adresse IP mais n'est pas valide",
    "unsupported scheme '{scheme}': only http and https are fetched":
        "schéma « {scheme} » non pris en charge : seuls http et https sont récupérés",
    "URL without a host": "URL sans hôte",
    "invalid URL: {error}": "URL invalide : {error}",
    "host {host} has no address": "l'hôte {host} n'a aucune adresse",
    "cannot resolve host {host}: timed out":
        "résolution de l'hôte {host} impossible : délai dépassé",
    "cannot resolve host {host}: {error}": "résolution de l'hôte {host} impossible : {error}",
    "local (Unix socket) connections are refused":
        "connexions locales (socket Unix) refusées",
    "invalid fetch.allow entry '{entry}': expected a host name, *.domain, IP address or "
    "network, optionally followed by :port":
        "entrée fetch.allow invalide « {entry} » : attendu un nom d'hôte, *.domaine, une "
        "adresse IP ou un réseau, éventuellement suivi de :port",
    # fetching
    "HTTP {status} {phrase}": "HTTP {status} {phrase}",
    "absent from the replayed archives": "absent des archives rejouées",
    "body over the {limit:,}-byte limit": "contenu au-delà de la limite de {limit:,} octets",
    "forbidden by the site's robots.txt": "interdit par le robots.txt du site",
    "more than {count} redirects": "plus de {count} redirections",
    "redirect loop at {url}": "boucle de redirections sur {url}",
    "network error: {error}": "erreur réseau : {error}",
    "no complete answer within {seconds} s": "pas de réponse complète en {seconds} s",
    "unsupported Content-Encoding {encoding}": "Content-Encoding {encoding} non pris en charge",
    "{reason}; asked to come back in {seconds:.0f} s, longer than allowed":
        "{reason} ; le site demande de revenir dans {seconds:.0f} s, plus que permis",
    # polling sources
    "no feed or sitemap found at {location}":
        "aucun flux ni sitemap trouvé à {location}",
    "neither a feed nor a sitemap: {location}": "ni un flux ni un sitemap : {location}",
    "not a feed (malformed or unknown format)": "pas un flux (mal formé ou format inconnu)",
    "not a feed: the address answers with an HTML page":
        "pas un flux : l'adresse répond par une page HTML",
    "not a sitemap: the root element is <{tag}>, expected <urlset> or <sitemapindex>":
        "pas un sitemap : l'élément racine est <{tag}>, <urlset> ou <sitemapindex> attendu",
    "unreadable XML at line {line}: {error}": "XML illisible à la ligne {line} : {error}",
    "the document declares XML entities or a DTD, refused as unsafe":
        "le document déclare des entités XML ou une DTD, refusé par sécurité",
    "not an OPML file: the root element is <{tag}>":
        "pas un fichier OPML : l'élément racine est <{tag}>",
    "OPML file without a <body> element": "fichier OPML sans élément <body>",
    "not a language and country code: {lang}, {country}":
        "codes de langue et de pays invalides : {lang}, {country}",
    "empty Google News query": "recherche Google Actualités vide",
    # understanding stories
    "{site} writes « {written} », but {day} was a {weekday}":
        "{site} écrit « {written} », mais le {day} était un {weekday}",
    "date of « {word} »": "date de « {word} »",
    "figure for « {word} »": "chiffre pour « {word} »",
    "spaCy is not installed": "spaCy n'est pas installé",
    "no English NER model installed (en_core_web_sm is not on the package index)":
        "aucun modèle anglais de reconnaissance d'entités nommées installé (en_core_web_sm "
        "n'est pas sur l'index des paquets)",
    "named-entity model {model} is not installed":
        "le modèle d'entités nommées {model} n'est pas installé",
    "no named-entity model for language {language}":
        "aucun modèle d'entités nommées pour la langue {language}",
    # summaries
    "no LLM endpoint configured (summary.llm.url and model)":
        "aucun point d'accès LLM configuré (summary.llm.url et model)",
    "no extractive summary to ground the LLM on":
        "aucun résumé extractif sur lequel fonder le LLM",
    "the LLM did not answer within {seconds:g} s": "le LLM n'a pas répondu en {seconds:g} s",
    "the LLM endpoint answered HTTP {status}": "le point d'accès LLM a répondu HTTP {status}",
    "LLM request failed: {error}": "échec de la requête au LLM : {error}",
    "malformed LLM answer: {error}": "réponse du LLM mal formée : {error}",
    "the LLM answer has no usable sentence":
        "la réponse du LLM ne contient aucune phrase exploitable",
    "{message} (at position {position})": "{message} (position {position})",
    "unclosed quote": "guillemet non fermé",
    "empty query": "requête vide",
    "unopened parenthesis": "parenthèse fermée sans avoir été ouverte",
    "unexpected « {text} »": "« {text} » inattendu",
    "a word, a phrase or a parenthesis is missing":
        "il manque un mot, une expression ou une parenthèse",
    "« ) » is missing": "il manque « ) »",
    "unknown field « {field} » (fields: {fields})": "champ inconnu « {field} » (champs : {fields})",
    "a field inside a field": "un champ dans un champ",
    "« {text} » needs a word after it": "« {text} » doit être suivi d'un mot",
    "an empty value": "une valeur vide",
    "« {text} » is too common a word to search for":
        "« {text} » est un mot trop courant pour être cherché",
    "unknown delivery target « {target} » (file, mailto, webhook, slack, mattermost)":
        "destination inconnue « {target} » (file, mailto, webhook, slack, mattermost)",
    "a webhook needs an http(s) URL: « {target} »":
        "un webhook demande une URL http(s) : « {target} »",
    "Watch « {name} » — {count} stories": "Veille « {name} » — {count} sujet(s)",
    "no such time of day: « {text} »": "heure impossible : « {text} »",
    "an interval from 5 minutes to a day: « {text} »":
        "un intervalle de 5 minutes à un jour : « {text} »",
    "unknown schedule « {text} » (daily 07:00, hourly, every 6h)":
        "rythme inconnu « {text} » (daily 07:00, hourly, every 6h)",
    "a source needs url": "une source demande une url",
    "unreadable interval: {every}": "intervalle illisible : {every}",
    "a watch needs a name": "une veille demande un nom",
    "full-text search needs SQLite or PostgreSQL (this store: {dialect})":
        "la recherche plein texte demande SQLite ou PostgreSQL (ici : {dialect})",
    "site:, lang: and entity: combine with AND in a search":
        "site:, lang: et entity: se combinent avec AND dans une recherche",
    "NOT needs words to take from: « a -b », not « a OR -b »":
        "NOT retire des mots d'autres mots : « a -b », pas « a OR -b »",
    "a search needs a word to look for, not only exclusions":
        "une recherche demande un mot à chercher, pas seulement des exclusions",
    "invalid cursor": "curseur invalide",
}
# fmt: on


def language() -> str:
    for name in ("VEILLE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            return "en" if value.lower().startswith("en") else "fr"
    return "fr"


def _(msgid: str, **fields: object) -> str:
    return translate(msgid, None, **fields)


def translate(msgid: str, lang: str | None, /, **fields: object) -> str:
    """The message in `lang` ("fr" or "en"; None: the process's language)."""
    text = msgid if (lang or language()) == "en" else FRENCH.get(msgid, msgid)
    return text.format(**fields) if fields else text


def pick(fr: str, en: str) -> str:
    """Inline bilingual text for labels that live in one place (table headers, help)."""
    return en if language() == "en" else fr
