"""Story summaries: extractive across sources, and the optional LLM rewrite with its fallback."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import shared_path
from veille.config import Settings
from veille.extract import extract_html
from veille.model import Article
from veille.pipeline import process
from veille.summarize import (
    ExtractiveOptions,
    SourceText,
    Summary,
    options_from_config,
    split_sentences,
    summarize,
    summarize_llm,
)
from veille.summarize.extractive import prepare, score

DAY = datetime(2026, 2, 3, 8)


def _source(n: int, site: str, text: str, title: str = "", minutes: int = 0) -> SourceText:
    return SourceText(
        n, site, f"https://{site}/{n}", title, text, DAY + timedelta(minutes=minutes), "fr"
    )


SUMMONS = "Le maire sera entendu par les juges le 20 avril prochain, a indiqué le parquet de Lyon."


def _lyon_story() -> list[SourceText]:
    title = "Lyon : le budget du stade voté, le maire convoqué"
    return [
        _source(
            1,
            "a.fr",
            "Le conseil municipal de Lyon a voté mardi soir le budget du nouveau stade.\n"
            + SUMMONS,
            title,
            0,
        ),
        _source(
            2,
            "b.fr",
            "Les élus lyonnais ont adopté mardi le budget du futur stade de la ville.\n"
            "Le maire sera entendu par les juges le 20 avril prochain, a précisé le parquet "
            "de Lyon.",
            title,
            10,
        ),
        _source(
            3,
            "c.fr",
            "Le budget du futur stade a été voté mardi par les élus de Lyon.\n"
            "Le maire sera entendu par les juges le 20 avril prochain, selon le parquet de Lyon.",
            title,
            20,
        ),
        _source(
            4,
            "d.fr",
            "Le préfet du Rhône a annoncé mardi une hausse des subventions pour les clubs "
            "amateurs de Lyon.\nLe stade de Lyon aura son budget, voté mardi par les élus.",
            title,
            30,
        ),
    ]


# --------------------------------------------------------------------------- sentences


def test_sentences_respect_french_abbreviations_initials_numbers_and_quotes():
    text = (
        "M. Durand et Mme Roux ont parlé. « Ce n'est pas fini. Nous irons au bout », a dit "
        "George W. Bush. Les magasins E.Leclerc ont 3.5 millions de clients. Les locaux de X. "
        "Elon Musk est convoqué ! Qui sait ? personne.\nNouveau paragraphe"
    )
    assert split_sentences(text) == [
        "M. Durand et Mme Roux ont parlé.",
        "« Ce n'est pas fini. Nous irons au bout », a dit George W. Bush.",
        "Les magasins E.Leclerc ont 3.5 millions de clients.",
        "Les locaux de X.",
        "Elon Musk est convoqué !",
        "Qui sait ? personne.",
        "Nouveau paragraphe",
    ]


def test_sentences_glued_by_scraping_are_split():
    # OrangeSum and naive dumps: a stop with no space, a heading run into the next paragraph.
    text = (
        "Il a appelé à ne pas manifester.Sur RTL, elle a répondu.Suite de l'affaireGérald a parlé."
    )
    assert split_sentences(text) == [
        "Il a appelé à ne pas manifester.",
        "Sur RTL, elle a répondu.",
        "Suite de l'affaire",
        "Gérald a parlé.",
    ]


# --------------------------------------------------------------------------- extractive


def test_a_sentence_stated_by_three_sources_ranks_above_one_stated_by_one():
    story = _lyon_story()
    options = ExtractiveOptions()
    candidates = prepare(story, options)
    summons = next(c for c in candidates if "20 avril" in c.text)
    prefect = next(c for c in candidates if "préfet" in c.text)
    assert sorted(article for article, _ in summons.members) == [0, 1, 2]
    assert summons.features["support"] > prefect.features["support"] == 0.0
    # Even though the single-source sentence leads its article and the other does not.
    assert prefect.position == 0 and summons.position == 1
    assert score(summons, options.weights) > score(prefect, options.weights)


def test_sentences_to_avoid_are_not_picked_even_split_differently():
    story = _lyon_story()
    assert any("20 avril" in s.text for s in summarize(story).sentences)
    # The caller's sentence holds the summons and more: no part of it is picked.
    avoided = "Selon nos informations, " + SUMMONS + " Il conteste."
    summary = summarize(story, avoid=[avoided])
    assert summary.sentences and not any("20 avril" in s.text for s in summary.sentences)


def test_attribution_lists_every_source_stating_the_sentence():
    summary = summarize(_lyon_story())
    assert summary.method == "extractive"
    summons = next(s for s in summary.sentences if "20 avril" in s.text)
    assert (summons.site, summons.url, summons.article_id) == ("a.fr", "https://a.fr/1", 1)
    assert summons.also == [("b.fr", "https://b.fr/2"), ("c.fr", "https://c.fr/3")]
    # The sentence most sources state opens the summary; the others follow in order of
    # publication (of the source quoted), then position.
    assert max(len(s.also) for s in summary.sentences) == len(summary.sentences[0].also)
    rest = [s.url for s in summary.sentences[1:]]
    assert rest == sorted(rest, key=lambda url: int(url.rsplit("/", 1)[1]))


CHROME = [
    "Lire aussi : Le maire de Lyon sous pression après le vote du budget",
    "Partager:",
    "Publié le 3 février 2026 à 10h30",
    "Nous utilisons des cookies pour mesurer l'audience et vous proposer des publicités.",
    "Abonnez-vous à notre newsletter pour recevoir toute l'actualité de Lyon chaque matin.",
    "Investir dans les cryptomonnaies comporte des risques.",
    "Acheter du Bitcoin sur Trade Republic à partir de 1€",
    "💱 Vous aussi, vous souhaitez acheter du Bitcoin ? Faites-vous guider étape par étape",
    "Cybersécurité · Réseaux sociaux",
    "Retour à l'accueil",
    "Aucun commentaire pour le moment.",
    "Pour lire la suite de cet article, connectez-vous à votre compte abonné.",
    "LE DIRECT : SUIVEZ LES RÉACTIONS APRÈS LE VOTE DU CONSEIL MUNICIPAL",
    "(Ajout de la réaction du maire de Lyon au paragraphe 6 après le vote du budget)",
]


def test_boilerplate_is_never_selected():
    prose = [
        "Le conseil municipal de Lyon a voté mardi soir le budget du nouveau stade.",
        "Le projet coûtera 120 millions d'euros selon les chiffres de la métropole.",
        "Les travaux commenceront au printemps et dureront trois ans au total.",
    ]
    story = [
        _source(1, "a.fr", "\n".join([CHROME[0], prose[0], *CHROME[1:7], prose[1]])),
        _source(2, "b.fr", "\n".join([*CHROME[7:], prose[2], CHROME[4] + " " + prose[2]])),
    ]
    # A budget large enough for everything: only the filters keep the chrome out.
    summary = summarize(story, {"budget_words": 1000, "redundancy": 1.01})
    text = summary.text
    assert all(line not in text for line in CHROME)
    assert all(sentence in text for sentence in prose)


@pytest.mark.parametrize("budget", [15, 30, 45, 80, 120])
def test_budget_is_respected(budget):
    story = [
        _source(
            n,
            f"site{n}.fr",
            " ".join(
                f"Le conseil numéro {n} de la ville {k} a voté un budget de {k * 7} millions "
                f"d'euros pour le stade, la piscine et les écoles du quartier {n + k}."
                for k in range(12)
            ),
            minutes=n,
        )
        for n in range(6)
    ]
    summary = summarize(story, {"budget_words": budget, "redundancy": 1.01})
    words = sum(len(s.text.split()) for s in summary.sentences)
    assert words <= budget
    # Every sentence has 27 words or more: a smaller budget leaves the summary empty.
    assert (words > 0) == (budget >= 27)


def test_a_one_article_story_uses_the_one_article_budget():
    text = " ".join(
        f"La commune {k} a ouvert une école maternelle de {k + 3} classes cette année." * 1
        for k in range(20)
    )
    summary = summarize([_source(1, "a.fr", text)], {"single": {"budget_words": 30}})
    assert 0 < sum(len(s.text.split()) for s in summary.sentences) <= 30


def test_the_summary_is_deterministic_across_runs_and_hash_seeds():
    story = _lyon_story()
    assert summarize(story) == summarize(story)
    # Set and dict orders change with the hash seed: the summary must not.
    code = (
        "import json, sys\n"
        "from datetime import datetime\n"
        "from veille.summarize import SourceText, summarize\n"
        "story = [SourceText(**{**a, 'published': datetime.fromisoformat(a['published'])})"
        " for a in json.load(sys.stdin)]\n"
        "print(json.dumps([(s.text, s.url, s.also) for s in summarize(story).sentences]))"
    )
    data = json.dumps([{**vars(a), "published": a.published.isoformat()} for a in story])
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for seed in ("1", "2")
    ]
    outputs = [json.loads(run.communicate(data, timeout=60)[0]) for run in runs]
    here = [[s.text, s.url, [list(a) for a in s.also]] for s in summarize(story).sentences]
    assert outputs == [here, here]


def test_options_come_from_the_summary_config_table():
    options = options_from_config(
        {
            "budget_words": 80,
            "fill": False,
            "weights": {"support": 3, "nonsense": 1},
            "single": {"budget_words": 40, "weights": {"position": 2}},
            "unknown": 1,
        }
    )
    assert (options.budget_words, options.fill, options.weights["support"]) == (80, False, 3.0)
    assert "nonsense" not in options.weights
    single = options.for_articles(1)
    assert single.budget_words == 40 and single.weights["position"] == 2.0
    assert options.for_articles(5) is options


def test_an_empty_story_has_an_empty_summary():
    assert summarize([]) == Summary([], "extractive")
    assert summarize([_source(1, "a.fr", "Partager:\nRetour à l'accueil")]).sentences == []


# --------------------------------------------------------------------------- LLM


@dataclass
class _Endpoint:
    """What the fake chat endpoint answers, and what it was sent."""

    status: int = 200
    body: object = field(default_factory=dict)
    # Answer only once the client has hung up (or HANG_GUARD seconds passed without it).
    hang: bool = False
    requests: list[dict] = field(default_factory=list)
    client_left: threading.Event = field(default_factory=threading.Event)


# Only a client that never gives up waits this long; then it is answered, and the test fails.
HANG_GUARD = 60.0


@pytest.fixture
def endpoint() -> Iterator[tuple[_Endpoint, str]]:
    state = _Endpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            state.requests.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "json": json.loads(self.rfile.read(length)),
                }
            )
            if state.hang and self._client_leaves():
                state.client_left.set()
                return
            data = json.dumps(state.body).encode()
            try:
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (the timeout test)

        def _client_leaves(self) -> bool:
            # The client sends nothing more while it waits: the next read ends only when it
            # closes the connection (or at the guard).
            self.connection.settimeout(HANG_GUARD)
            try:
                return self.connection.recv(1) == b""
            except TimeoutError:
                return False
            except OSError:
                return True  # reset: gone too

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def _answer(content: str) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}},
        ],
    }


FACTS = ["Le maire de Lyon est convoqué le 20 avril."]


def test_llm_summary_is_grounded_cited_and_authenticated(endpoint, monkeypatch):
    state, url = endpoint
    monkeypatch.setenv("TEST_LLM_KEY", "sekret")
    story = _lyon_story()
    extractive = summarize(story)
    state.body = _answer(
        "Le budget du nouveau stade de Lyon a été voté mardi [1][2]. "
        "Le maire sera entendu par les juges le 20 avril [2]. [3]\n"
        "Le préfet promet plus de subventions aux clubs amateurs."
    )
    config = {"url": url, "model": "test-model", "api_key_env": "TEST_LLM_KEY"}
    summary = summarize_llm(story, extractive, FACTS, config)

    (request,) = state.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sekret"
    sent = request["json"]
    assert sent["model"] == "test-model" and sent["temperature"] == 0.2
    assert sent["max_tokens"] > 0
    prompt = "\n".join(m["content"] for m in sent["messages"])
    assert all(s.text in prompt for s in extractive.sentences)
    assert FACTS[0] in prompt and "[1]" in prompt

    assert summary.method == "llm" and summary.error is None
    first, second, third = summary.sentences
    assert first.text == "Le budget du nouveau stade de Lyon a été voté mardi."
    # [n] is the n-th source the extractive summary cites, in order of appearance.
    cited = {}
    for s in extractive.sentences:
        for site, url in [(s.site, s.url), *s.also]:
            cited.setdefault(url, site)
    one, two, three = [(site, url) for url, site in cited.items()][:3]
    assert first.url == one[1] and first.also == [two]
    # "[3]" after the stop still belongs to the sentence it follows.
    assert second.url == two[1] and second.also == [three]
    # No citation: attributed to the grounding sentence it shares most words with.
    assert third.url == "https://d.fr/4"


def test_no_key_in_the_environment_sends_no_authorization(endpoint, monkeypatch):
    state, url = endpoint
    monkeypatch.delenv("VEILLE_LLM_KEY", raising=False)
    state.body = _answer("Le budget du stade de Lyon a été voté mardi [1].")
    story = _lyon_story()
    summary = summarize_llm(story, summarize(story), [], {"url": url, "model": "m"})
    assert summary.method == "llm"
    assert "Authorization" not in state.requests[0]["headers"]


@pytest.mark.parametrize(
    ("status", "body", "hang", "reason"),
    [
        (500, {"error": "boom"}, False, "500"),
        (200, {"unexpected": True}, False, "choices"),
        (200, _answer("   "), False, ""),
        (200, {"choices": []}, False, ""),
        (200, _answer("Rien [1]"), False, ""),
        (200, _answer("x"), True, "le LLM n'a pas répondu en 0.3 s"),
    ],
    ids=["http-500", "malformed", "empty", "no-choice", "too-short", "timeout"],
)
def test_llm_errors_fall_back_to_the_extractive_summary(endpoint, status, body, hang, reason):
    state, url = endpoint
    state.status, state.body, state.hang = status, body, hang
    story = _lyon_story()
    extractive = summarize(story)
    summary = summarize_llm(story, extractive, FACTS, {"url": url, "model": "m", "timeout": 0.3})
    assert summary.method == "extractive"
    assert summary.sentences == extractive.sentences
    assert summary.error and reason in summary.error
    # An endpoint that does not answer is hung up on: the request does not linger.
    assert state.client_left.wait(HANG_GUARD if hang else 0) == hang


def test_llm_without_an_endpoint_falls_back_without_a_request():
    story = _lyon_story()
    extractive = summarize(story)
    summary = summarize_llm(story, extractive, FACTS, {})
    assert summary.sentences == extractive.sentences and summary.error


def test_llm_unreachable_endpoint_falls_back():
    story = _lyon_story()
    extractive = summarize(story)
    # Port 9 (discard) on loopback: nothing listens there, the connection is refused.
    summary = summarize_llm(
        story, extractive, FACTS, {"url": "http://127.0.0.1:9/v1", "model": "m", "timeout": 2}
    )
    assert summary.method == "extractive" and summary.error


# --------------------------------------------------------------------------- seed day


@pytest.fixture(scope="module")
def x_story() -> tuple[list[SourceText], dict]:
    base = shared_path("fixtures", "seed-day")
    truth = json.loads((base / "truth.json").read_text("utf-8"))
    story = []
    for n, article in enumerate(truth["articles"]):
        if article["story"] != "x-paris-raid-2026-02-03":
            continue
        page = extract_html((base / article["page"]).read_bytes(), article["url"])
        if page is None or not page.text:
            continue  # the YouTube page: a title and a footer
        story.append(
            SourceText(
                n,
                page.site_name or article["site"],
                article["url"],
                page.title or "",
                page.text,
                page.published,
                page.language,
            )
        )
    return story, truth


def test_seed_day_x_story_summary_has_no_boilerplate_and_cites_three_sources(x_story):
    story, truth = x_story
    assert len(story) >= 10
    summary = summarize(story)
    text = summary.text
    assert summary.sentences
    assert [b for b in truth["boilerplate_strings"] if b in text] == []
    assert sum(len(s.text.split()) for s in summary.sentences) <= ExtractiveOptions().budget_words
    cited = {s.site for s in summary.sentences} | {
        site for s in summary.sentences for site, _url in s.also
    }
    assert len(cited) >= 3
    urls = {s.url for s in story}
    assert all(s.url in urls and {u for _, u in s.also} <= urls for s in summary.sentences)
    # The summons, stated by most outlets, is in, with its many sources.
    summons = next(s for s in summary.sentences if "20 avril" in s.text)
    assert len(summons.also) >= 4


def test_fifty_articles_summarise_within_the_budget():
    # Its speed is measured by bench/summaries.py (a time limit here fails on a busy machine).
    story = [
        _source(
            n,
            f"site{n}.fr",
            "\n".join(
                f"Le conseil {n} de la ville {k} a voté un budget de {k * 7 + n} millions "
                f"d'euros pour le stade {k}, la piscine {n} et les écoles du quartier {n + k}. "
                f"Le maire {k} sera entendu par les juges le {k % 28 + 1} avril prochain."
                for k in range(20)
            ),
            minutes=n,
        )
        for n in range(50)
    ]
    summary = summarize(story)
    assert summary.sentences
    # The default budget (100 words), give or take the last sentence's end.
    assert sum(len(s.text.split()) for s in summary.sentences) <= 130


def test_the_pipeline_rewrites_with_the_llm_of_the_config(endpoint, tmp_path, store):
    state, url = endpoint
    config = tmp_path / "config.toml"
    config.write_text(
        f'[summary.llm]\nenabled = true\nurl = "{url}"\nmodel = "test-model"\n', "utf-8"
    )
    settings = Settings.from_env(config)
    for source in _lyon_story():
        store.save_article(
            Article(
                url=source.url,
                canonical_url=source.url,
                title="Lyon : le budget du stade voté, le maire convoqué le 20 avril",
                text=source.text,
                content_hash=source.url,
                raw_ref=source.url,
                source="test",
                published=source.published,
                site_name=source.site,
                language="xx",  # no entity model: nothing slow, the reason recorded
            )
        )
    state.body = _answer("Le maire de Lyon sera entendu par les juges le 20 avril [1].")
    process(store, settings)
    (story,) = store.stories()
    brief = store.brief(story.id)
    assert state.requests[0]["json"]["model"] == "test-model"
    assert brief.method == "llm" and brief.summary_error is None
    assert brief.summary[0].text == "Le maire de Lyon sera entendu par les juges le 20 avril."
    assert brief.summary[0].source.url == "https://a.fr/1"
