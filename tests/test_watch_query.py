"""The watch query language: precedence, phrases, exclusions, accents, elisions, stems,
fields, error positions, and the algebra of matching."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veille.watch import And, Not, Or, QueryError, Term, matches, parse, searchable

RAID = searchable(
    titles=["Les locaux de X perquisitionnés à Paris, Elon Musk convoqué"],
    texts=[
        "La perquisition a été menée mardi par la section cybercriminalité du parquet de "
        "Paris. L'enquête vise l'algorithme du réseau social. Une audition libre est prévue."
    ],
    sites=["Le Monde"],
    urls=["https://www.lemonde.fr/pixels/article/x.html"],
    languages=["fr"],
    entity_names=["Elon Musk", "Musk", "parquet de Paris"],
)
CYBER = searchable(
    titles=["Agents IA : les entreprises inquiètes pour leur cybersécurité"],
    texts=["Deux tiers des entreprises jugent les agents IA dangereux pour la sécurité."],
    sites=["ZDNet"],
    urls=["https://www.zdnet.fr/actualites/agents-ia.htm"],
    languages=["fr"],
)


def hit(query: str, doc=RAID) -> bool:
    return matches(parse(query), doc)


def test_precedence_not_then_and_then_or():
    assert parse("musk OR grok tesla") == Or(
        (
            Term(None, "musk", ("musk",)),
            And((Term(None, "grok", ("grok",)), Term(None, "tesla", ("tesl",)))),
        )
    )
    assert isinstance(parse("NOT musk grok"), And)
    assert isinstance(parse("NOT musk grok").operands[0], Not)
    assert isinstance(parse("(musk OR grok) tesla"), And)
    # Without the brackets OR binds last: "musk" alone is enough.
    assert hit("musk OR grok tesla") and not hit("(musk OR grok) tesla")


def test_french_operators_are_accepted():
    assert parse("musk ET grok") == parse("musk AND grok")
    assert parse("musk OU grok") == parse("musk OR grok")
    assert parse("musk SAUF grok") == parse("musk -grok")


def test_lower_case_operators_are_words_and_stop_words_are_refused():
    for query in ("or", "musk and tesla", "musk ou grok"):
        with pytest.raises(QueryError, match="trop courant"):
            parse(query)


def test_phrases_need_their_words_in_order():
    assert hit('"audition libre"')
    assert not hit('"libre audition"')
    assert hit('"parquet de Paris"')  # stop words inside a phrase are ignored both sides
    assert not hit('"parquet de Lyon"')


def test_exclusions():
    assert hit("perquisition -grok")
    assert not hit("perquisition -musk")
    assert not hit("perquisition NOT musk")
    assert hit("cybersécurité -Musk", CYBER) and not hit("cybersécurité -Musk")


def test_accents_case_and_elisions_do_not_matter():
    assert hit("CYBERCRIMINALITE") and hit("cybercriminalité")
    assert hit("enquete") and hit("l'enquête") and hit("d’enquête")
    assert hit("cybersecurite", CYBER)


def test_stems_and_word_families():
    for word in ("perquisition", "perquisitions", "perquisitionné", "perquisitionne"):
        assert hit(word), word
    assert hit("convoquée") and hit("convocation") is False
    assert not hit("portrait")


def test_fields():
    assert hit("title:perquisitionnés") and hit("title:Musk")
    assert not hit("title:audition") and hit("text:audition")
    assert hit("site:lemonde.fr") and hit('site:"le monde"') and not hit("site:lefigaro.fr")
    assert hit("lang:fr") and not hit("lang:en")
    assert hit("entity:Musk") and hit('entity:"Elon Musk"') and not hit("entity:Grok")
    assert hit("title:(musk OR grok)") and not hit("title:(audition OR grok)")


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("(musk OR grok", 13, "« ) »"),
        ("musk OR", 7, "mot"),
        ('musk "audition libre', 5, "guillemet"),
        ("musk foo:bar", 5, "champ inconnu"),
        ("musk )", 5, "parenthèse"),
        ("musk -", 5, "« - »"),
        ("musk AND le", 9, "trop courant"),
        ("", 0, "vide"),
    ],
)
def test_errors_point_at_the_fault(query, position, message):
    with pytest.raises(QueryError) as raised:
        parse(query)
    assert raised.value.position == position
    assert message in str(raised.value)
    assert raised.value.pointer().splitlines()[-1] == " " * position + "^"


WORDS = ["musk", "perquisition", "grok", "paris", "audition", "sécurité", "lemonde", "tesla"]
DOCS = [RAID, CYBER, searchable(titles=["Tesla et Grok"], texts=["Musk à Paris."])]


def queries() -> st.SearchStrategy[str]:
    leaf = st.sampled_from(WORDS) | st.sampled_from(WORDS).map(lambda w: f"title:{w}")
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(inner, inner).map(lambda ab: f"({ab[0]} AND {ab[1]})"),
            st.tuples(inner, inner).map(lambda ab: f"({ab[0]} OR {ab[1]})"),
            inner.map(lambda a: f"-({a})"),
        ),
        max_leaves=6,
    )


@settings(max_examples=200, deadline=None)
@given(queries(), queries())
def test_and_narrows_or_widens(a, b):
    for doc in DOCS:
        both, either = hit(f"({a}) AND ({b})", doc), hit(f"({a}) OR ({b})", doc)
        assert both <= hit(a, doc)  # A AND B matches a subset of A
        assert hit(a, doc) <= either
        assert hit(f"NOT ({a})", doc) == (not hit(a, doc))
        assert hit(f"({a}) ({b})", doc) == both  # juxtaposition is AND


@pytest.mark.parametrize(
    "query",
    ["(" * 300 + "grève" + ")" * 300, "NOT " * 300 + "grève", "-(" * 300 + "grève" + ")" * 300],
)
def test_a_query_nested_too_deep_is_refused_not_a_recursion_error(query):
    with pytest.raises(QueryError) as refused:
        parse(query)
    assert "imbrique plus de 32 niveaux" in str(refused.value)


def test_a_query_nested_to_the_limit_is_read_and_matched():
    nested = "(" * 31 + "grève OR dockers" + ")" * 31
    node = parse(nested)
    assert matches(node, searchable(["Les dockers en grève"], [""]))
    assert matches(parse("NOT " * 31 + "grève"), searchable(["Rien à voir"], [""]))
