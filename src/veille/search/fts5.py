"""SQLite's FTS5 back end: a table of stems, BM25 with headline words weighing double."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text

from veille.watch import And, Node, Not, Or, Term
from veille.watch.match import PREFIX_MIN

TABLE = "article_search"  # made by the store's migration 0007
KEY = "rowid"  # the article's id in TABLE
MATCH = f"{TABLE} MATCH :match"
SCORE = f"bm25({TABLE}, 2.0, 1.0)"  # lower is better
NEWEST = f"{TABLE}.rowid DESC"  # FTS5 walks its matches in rowid order
SETUP: tuple[str, ...] = ()  # statements run before a search
RANK_MOST = 3_000  # matches scored at most (BM25 over 3,000 takes ~10 ms)


def index(conn: Connection, rows: Sequence[tuple[int, list[str], list[str]]]) -> None:
    """(Re)index articles given as (id, title stems, text stems)."""
    ids = [{"id": article_id} for article_id, _, _ in rows]
    if not ids:
        return
    conn.execute(text(f"DELETE FROM {TABLE} WHERE rowid = :id"), ids)
    conn.execute(
        text(f"INSERT INTO {TABLE}(rowid, title, body) VALUES (:id, :title, :body)"),
        [{"id": i, "title": " ".join(t), "body": " ".join(b)} for i, t, b in rows],
    )


def among(key: str, newest: list[int]) -> tuple[str, dict[str, object]]:
    """The condition keeping the matches of `newest` (ids, newest first) to score."""
    # A range: FTS5 given a list of rowids evaluates the whole query once per rowid.
    return f"{key} >= :floor", {"floor": newest[-1]}


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _word(stem: str) -> str:
    """A stem as FTS5 sees it: the terms it begins, and the shorter ones of its family."""
    forms = [_quote(stem) + ("*" if len(stem) >= PREFIX_MIN else "")]
    forms += [_quote(stem[:k]) for k in range(PREFIX_MIN, len(stem))]
    return forms[0] if len(forms) == 1 else "(" + " OR ".join(forms) + ")"


def expression(node: Node) -> str:
    """The FTS5 query of a node `veille.search.translate` has checked."""
    if isinstance(node, Term):
        found = _quote(" ".join(node.stems)) if node.phrase else _word(node.stems[0])
        return f"title : {found}" if node.field == "title" else found
    if isinstance(node, Or):
        return "(" + " OR ".join(expression(n) for n in node.operands) + ")"
    assert isinstance(node, And)
    positive = [n for n in node.operands if not isinstance(n, Not)]
    found = "(" + " AND ".join(expression(n) for n in positive) + ")"
    for excluded in (n.operand for n in node.operands if isinstance(n, Not)):
        found += f" NOT {expression(excluded)}"
    return "(" + found + ")"
