"""Watches: what a reader follows, as a query, and the stories that match it."""

from veille.watch.match import Searchable, highlights, matches, searchable, term_hits
from veille.watch.query import FIELDS, And, Node, Not, Or, QueryError, Term, parse, terms_of

__all__ = [
    "FIELDS",
    "And",
    "Node",
    "Not",
    "Or",
    "QueryError",
    "Searchable",
    "Term",
    "highlights",
    "matches",
    "parse",
    "searchable",
    "term_hits",
    "terms_of",
]
