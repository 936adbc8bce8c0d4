"""Optional abstractive summary: an OpenAI-compatible chat endpoint rewrites the extractive one.

Off by default. The model sees only the extractive summary's sentences, each with the
numbers of the sources stating it, and the story's key facts, and is told to write 3 to 5
sentences from them alone, citing sources as [n]. Citations map back to the articles; a
sentence citing none is attributed to the grounding sentence it shares most words with.
Whatever goes wrong (no endpoint, timeout, HTTP error, an answer that is not what was asked)
the extractive summary comes back unchanged, with the reason in `Summary.error`.

Configuration, the `[summary.llm]` table of config.toml:

    [summary.llm]
    enabled = false
    url = "http://127.0.0.1:8080/v1"   # POST {url}/chat/completions
    model = "mistral-small"
    api_key_env = "VEILLE_LLM_KEY"     # environment variable holding the key (never the key)
    temperature = 0.2
    max_tokens = 400
    timeout = 30                       # seconds for the whole request
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import httpx

from veille.i18n import _
from veille.summarize.extractive import SourceText, Summary, SummarySentence, split_sentences
from veille.text import terms


@dataclass(frozen=True)
class LlmOptions:
    enabled: bool = False
    url: str = ""
    model: str = ""
    api_key_env: str = "VEILLE_LLM_KEY"
    temperature: float = 0.2
    max_tokens: int = 400
    timeout: float = 30.0


def llm_options_from_config(config: Mapping[str, Any] | None) -> LlmOptions:
    """Options from the `[summary.llm]` table (a dict; unknown keys ignored)."""
    config = config or {}
    defaults = LlmOptions()
    return LlmOptions(
        **{
            spec.name: type(getattr(defaults, spec.name))(config[spec.name])
            for spec in fields(LlmOptions)
            if spec.name in config
        }
    )


SYSTEM_PROMPT = (
    "Tu rédiges des synthèses d'actualité en français, neutres et factuelles. Tu n'utilises "
    "QUE les informations des extraits et des faits fournis : aucune connaissance extérieure, "
    "aucune supposition, aucun commentaire."
)

INSTRUCTIONS = (
    "Rédige un résumé de 3 à 5 phrases de l'événement ci-dessous, à partir des seuls extraits "
    "et faits fournis. Termine chaque phrase par le numéro de la ou des sources qui "
    "l'appuient, entre crochets, par exemple [1] ou [2][3], en reprenant les numéros de la "
    "liste des sources. N'invente rien : une information absente des extraits et des faits "
    "ne doit pas figurer dans le résumé. Réponds uniquement par le résumé, sans titre, sans "
    "liste à puces."
)


@dataclass(frozen=True)
class _Source:
    number: int
    article_id: int
    site: str | None
    url: str


def _sources(story: Sequence[SourceText], extractive: Summary) -> list[_Source]:
    """The articles the extractive summary cites, numbered from 1 in order of appearance."""
    by_url = {s.url: s for s in story}
    numbered: dict[str, _Source] = {}
    for sentence in extractive.sentences:
        for site, url in [(sentence.site, sentence.url), *sentence.also]:
            if url not in numbered:
                article = by_url.get(url)
                article_id = article.article_id if article else sentence.article_id
                numbered[url] = _Source(len(numbered) + 1, article_id, site, url)
    return list(numbered.values())


def build_messages(
    story: Sequence[SourceText], extractive: Summary, facts: Sequence[str]
) -> list[dict[str, str]]:
    """The chat messages: instructions, numbered sources, grounding sentences and facts."""
    sources = {s.url: s for s in _sources(story, extractive)}
    lines = [INSTRUCTIONS, "", "Sources :"]
    lines += [f"[{s.number}] {s.site or s.url} — {s.url}" for s in sources.values()]
    lines += ["", "Extraits :"]
    for sentence in extractive.sentences:
        cited = [sentence.url, *(url for _site, url in sentence.also)]
        numbers = "".join(f"[{sources[url].number}]" for url in dict.fromkeys(cited))
        lines.append(f"- {sentence.text} {numbers}")
    if facts:
        lines += ["", "Faits :"]
        lines += [f"- {fact}" for fact in facts]
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "\n".join(lines)},
    ]


def summarize_llm(
    story: Sequence[SourceText],
    extractive: Summary,
    facts: Sequence[str],
    config: LlmOptions | Mapping[str, Any] | None,
) -> Summary:
    """An abstractive summary grounded in `extractive` and `facts`, or `extractive` itself
    with the reason in `error` when the endpoint cannot give one."""
    options = config if isinstance(config, LlmOptions) else llm_options_from_config(config)

    def fallback(reason: str) -> Summary:
        return Summary(extractive.sentences, "extractive", error=reason)

    if not options.url or not options.model:
        return fallback(_("no LLM endpoint configured (summary.llm.url and model)"))
    if not extractive.sentences:
        return fallback(_("no extractive summary to ground the LLM on"))
    headers = {"Content-Type": "application/json"}
    key = os.environ.get(options.api_key_env, "")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    payload = {
        "model": options.model,
        "messages": build_messages(story, extractive, facts),
        "temperature": options.temperature,
        "max_tokens": options.max_tokens,
    }
    endpoint = options.url.rstrip("/") + "/chat/completions"
    try:
        with httpx.Client(timeout=options.timeout) as client:
            response = client.post(endpoint, json=payload, headers=headers)
        response.raise_for_status()
        content = response.json()["choices"][0]["message"]["content"]
    except httpx.TimeoutException:
        return fallback(_("the LLM did not answer within {seconds:g} s", seconds=options.timeout))
    except httpx.HTTPStatusError as error:
        return fallback(
            _("the LLM endpoint answered HTTP {status}", status=error.response.status_code)
        )
    except httpx.HTTPError as error:
        return fallback(_("LLM request failed: {error}", error=str(error) or type(error).__name__))
    except (ValueError, KeyError, IndexError, TypeError) as error:
        return fallback(
            _("malformed LLM answer: {error}", error=str(error) or type(error).__name__)
        )
    if not isinstance(content, str):
        return fallback(_("malformed LLM answer: {error}", error="content"))
    sentences = parse_answer(content, story, extractive)
    if not sentences:
        return fallback(_("the LLM answer has no usable sentence"))
    return Summary(sentences, "llm")


_CITATION = re.compile(r"\[(\d+(?:\s*[,;-]\s*\d+)*)\]")
_CITATIONS_FIRST = re.compile(r"^(?:\s*\[\d+(?:\s*[,;-]\s*\d+)*\])+")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_SPACE_BEFORE_STOP = re.compile(r"\s+([.,;:!?…])")


def parse_answer(
    content: str, story: Sequence[SourceText], extractive: Summary, limit: int = 8
) -> list[SummarySentence]:
    """The answer's sentences, citations stripped and mapped back to their articles."""
    sources = {s.number: s for s in _sources(story, extractive)}
    text = "\n".join(_BULLET.sub("", line) for line in content.strip().splitlines())
    pieces: list[tuple[str, list[int]]] = []
    for piece in split_sentences(text):
        # "Phrase. [1]" splits after the stop: leading citations belong to the sentence before.
        leading = _CITATIONS_FIRST.match(piece)
        if leading and pieces:
            pieces[-1][1].extend(_numbers(leading.group(0)))
            piece = piece[leading.end() :].strip()
        if piece:
            pieces.append((piece, _numbers(piece)))
    found: list[SummarySentence] = []
    for piece, numbers in pieces:
        clean = _SPACE_BEFORE_STOP.sub(r"\1", _CITATION.sub("", piece)).strip()
        if len(clean.split()) < 3 or not any(c.isalpha() for c in clean):
            continue
        cited = [sources[n] for n in dict.fromkeys(numbers) if n in sources]
        if cited:
            first, rest = cited[0], cited[1:]
            found.append(
                SummarySentence(
                    clean, first.article_id, first.site, first.url, [(s.site, s.url) for s in rest]
                )
            )
        else:
            found.append(replace(_closest(clean, extractive), text=clean))
        if len(found) >= limit:
            break
    return found


def _numbers(text: str) -> list[int]:
    numbers: list[int] = []
    for group in _CITATION.findall(text):
        for part in re.split(r"\s*[,;]\s*", group):
            if "-" in part:
                low, _dash, high = part.partition("-")
                if low.strip().isdigit() and high.strip().isdigit():
                    numbers.extend(range(int(low), min(int(high), int(low) + 20) + 1))
            elif part.strip().isdigit():
                numbers.append(int(part))
    return numbers


def _closest(text: str, extractive: Summary) -> SummarySentence:
    """The grounding sentence sharing most terms with an uncited sentence of the answer."""
    words = set(terms(text))
    return max(extractive.sentences, key=lambda s: len(words & set(terms(s.text))))
