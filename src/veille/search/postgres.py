"""PostgreSQL's back end: a tsvector of the same stems as FTS5, with a GIN index.

The stems are computed in Python, as for SQLite, and written as tsvector and tsquery
literals, so both back ends find the same articles: PostgreSQL's own parser and
dictionaries never see the words. Headline words carry weight A, the text weight B.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection, text

from veille.watch import And, Node, Not, Or, Term
from veille.watch.match import PREFIX_MIN

TABLE = "article_search"  # made by the store's migration 0007
KEY = "article_id"
MATCH = f"{TABLE}.document @@ CAST(:match AS tsquery)"
# Weights of D, C, B, A: a headline word counts double a word of the text, as with FTS5;
# normalisation 1 divides by 1 + log(length), so long articles do not win by length alone.
SCORE = f"-ts_rank('{{0.1, 0.2, 0.5, 1.0}}', {TABLE}.document, CAST(:match AS tsquery), 1)"
# "+ 0" keeps the planner from walking the primary key backwards and testing every
# document until enough match (57 ms for a word in 6 % of 100k articles): the GIN index
# finds the matches, then the newest are sorted (18 ms).
NEWEST = f"{TABLE}.article_id + 0 DESC"
# For a word in a tenth of the articles the planner prefers reading the whole table and
# testing each document (100 ms at 100k) to the GIN index (20 ms): the search's own
# transaction forbids it.
SETUP = ("SET LOCAL enable_seqscan = off",)
# ts_rank reads each document whole: 3,000 of them take 45 ms at 100k, 1,000 take 15 ms.
RANK_MOST = 1_000

MAX_POSITION = 16383  # PostgreSQL keeps positions up to this one
MAX_POSITIONS = 256  # and this many positions of one lexeme


def _lexeme(stem: str) -> str:
    return "'" + stem.replace("\\", "\\\\").replace("'", "''") + "'"


def document(title: list[str], body: list[str]) -> str:
    """A tsvector literal: each stem with its positions, A in the title, B in the text."""
    positions: dict[str, list[str]] = defaultdict(list)
    # The text starts one position after the title ends, so no phrase spans the two.
    numbered = [(k + 1, s, "A") for k, s in enumerate(title)]
    numbered += [(len(title) + 2 + k, s, "B") for k, s in enumerate(body)]
    for position, stem, weight in numbered:
        if position > MAX_POSITION:
            break
        kept = positions[stem]
        if len(kept) < MAX_POSITIONS:
            kept.append(f"{position}{weight}")
    return " ".join(f"{_lexeme(stem)}:{','.join(p)}" for stem, p in positions.items())


def index(conn: Connection, rows: Sequence[tuple[int, list[str], list[str]]]) -> None:
    """(Re)index articles given as (id, title stems, text stems)."""
    if not rows:
        return
    conn.execute(
        text(
            f"INSERT INTO {TABLE} (article_id, document) "
            "VALUES (:id, CAST(:document AS tsvector)) "
            "ON CONFLICT (article_id) DO UPDATE SET document = EXCLUDED.document"
        ),
        [{"id": i, "document": document(t, b)} for i, t, b in rows],
    )


def among(key: str, newest: list[int]) -> tuple[str, dict[str, object]]:
    """The condition keeping the matches of `newest` (ids, newest first) to score."""
    # The ids themselves: a range of ids would test every document in it, matching or not.
    return f"{key} = ANY(:newest)", {"newest": newest}


def _query_lexeme(stem: str, weight: str, prefix: bool = False) -> str:
    """'stem', with :* to match the lexemes it begins and :A to match headlines only."""
    marks = ("*" if prefix else "") + weight
    return f"{_lexeme(stem)}:{marks}" if marks else _lexeme(stem)


def _word(stem: str, weight: str) -> str:
    """A stem as a tsquery: the lexemes it begins, and the shorter ones of its family."""
    forms = [_query_lexeme(stem, weight, prefix=len(stem) >= PREFIX_MIN)]
    forms += [_query_lexeme(stem[:k], weight) for k in range(PREFIX_MIN, len(stem))]
    return forms[0] if len(forms) == 1 else "(" + " | ".join(forms) + ")"


def expression(node: Node) -> str:
    """The tsquery of a node `veille.search.translate` has checked."""
    if isinstance(node, Term):
        weight = "A" if node.field == "title" else ""
        if node.phrase:
            return "(" + " <-> ".join(_query_lexeme(s, weight) for s in node.stems) + ")"
        return _word(node.stems[0], weight)
    if isinstance(node, Or):
        return "(" + " | ".join(expression(n) for n in node.operands) + ")"
    assert isinstance(node, And)
    parts = [expression(n) for n in node.operands if not isinstance(n, Not)]
    parts += [f"!{expression(n.operand)}" for n in node.operands if isinstance(n, Not)]
    return "(" + " & ".join(parts) + ")"
