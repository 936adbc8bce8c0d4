"""The watch query language: words, "quoted phrases", AND / OR / NOT (or a leading `-`),
parentheses, and field prefixes.

    (X OR Musk) AND (perquisition OR perquisitionne)
    cybersécurité -Musk
    title:"audition libre" site:lemonde.fr lang:fr entity:"Pavel Durov"

NOT binds tightest, then AND (also implied between two terms), then OR. Operators are
written in capitals; the French ET, OU and SAUF are accepted too. Words match as the
archive's words do: case, accents and elisions ignored, French stems, a longer word of the
same stem matching ("perquisition" finds "perquisitionné"). A query that cannot be read
raises `QueryError` with the position of the fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from veille.i18n import _
from veille.text import terms

FIELDS = ("title", "text", "site", "lang", "entity")
_OPERATORS = {"AND": "AND", "ET": "AND", "OR": "OR", "OU": "OR", "NOT": "NOT", "SAUF": "NOT"}


class QueryError(ValueError):
    """A query that cannot be read; `position` is the offset of the fault in the query."""

    def __init__(self, message: str, query: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.query = query
        self.position = position

    def pointer(self) -> str:
        """The query with a caret under the fault, for a terminal."""
        return f"{self.query}\n{' ' * self.position}^"

    def __str__(self) -> str:
        return _(
            "{message} (at position {position})", message=self.message, position=self.position + 1
        )


@dataclass(frozen=True)
class Term:
    """A word or a phrase, in a field (None: title and text)."""

    field: str | None
    text: str  # as written
    stems: tuple[str, ...]  # the words to find in order (one for a word)
    phrase: bool = False


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Term | Not | And | Or

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<open>\()|(?P<close>\))|
        (?P<field>[A-Za-z]+):(?=\S)|
        "(?P<phrase>[^"]*)(?P<end>"?)|
        (?P<minus>-)(?=[^\s)])|
        (?P<word>[^\s()"]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # open, close, field, phrase, minus, word, op
    value: str
    position: int


def _tokens(query: str) -> list[_Token]:
    found: list[_Token] = []
    position = 0
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None or match.end() == position:
            break  # trailing spaces
        kind = match.lastgroup or ""
        start = match.start(kind) if kind else position
        if kind in ("phrase", "end"):
            if not match.group("end"):
                raise QueryError(_("unclosed quote"), query, match.start("phrase") - 1)
            found.append(_Token("phrase", match.group("phrase"), match.start("phrase") - 1))
        elif kind == "word" and match.group("word") == "-":
            raise QueryError(_("« {text} » needs a word after it", text="-"), query, start)
        elif kind == "word" and match.group("word") in _OPERATORS:
            found.append(_Token("op", _OPERATORS[match.group("word")], start))
        elif kind:
            found.append(_Token(kind, match.group(kind), start))
        position = match.end()
    return found


# Parentheses and negations nest at most this deep: a deeper query is refused with its
# position rather than exhausting the parser's (and the matcher's) recursion.
MAX_DEPTH = 32


def parse(query: str, language: str = "fr") -> Node:
    """The query's tree; QueryError on a fault."""
    return _Parser(query, language).parse()


class _Parser:
    def __init__(self, query: str, language: str) -> None:
        self.query = query
        self.language = language
        self.tokens = _tokens(query)
        self.i = 0
        self.depth = 0

    def error(self, message: str, position: int | None = None) -> QueryError:
        if position is None:
            position = (
                self.tokens[self.i].position if self.i < len(self.tokens) else len(self.query)
            )
        return QueryError(message, self.query, position)

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def parse(self) -> Node:
        if not self.tokens:
            raise self.error(_("empty query"), 0)
        node = self.or_()
        token = self.peek()
        if token is not None:
            if token.kind == "close":
                raise self.error(_("unopened parenthesis"))
            raise self.error(_("unexpected « {text} »", text=token.value))
        return node

    def or_(self) -> Node:
        operands = [self.and_()]
        while (token := self.peek()) is not None and token.kind == "op" and token.value == "OR":
            self.i += 1
            operands.append(self.and_())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_(self) -> Node:
        operands = [self.unary()]
        while (token := self.peek()) is not None:
            if token.kind == "op" and token.value == "AND":
                self.i += 1
            elif token.kind == "close" or (token.kind == "op" and token.value == "OR"):
                break
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def nested(self, token: _Token) -> None:
        """One level deeper (a parenthesis, a negation): QueryError past MAX_DEPTH."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                _("the query nests deeper than {limit} levels", limit=MAX_DEPTH), token.position
            )

    def unary(self) -> Node:
        token = self.peek()
        if token is not None and (
            token.kind == "minus" or (token.kind == "op" and token.value == "NOT")
        ):
            self.i += 1
            self.nested(token)
            node = Not(self.unary())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self, field: str | None = None) -> Node:
        token = self.peek()
        if token is None:
            raise self.error(_("a word, a phrase or a parenthesis is missing"))
        self.i += 1
        if token.kind == "open":
            self.nested(token)
            node = self.or_() if field is None else self._grouped_field(field)
            self.depth -= 1
            closing = self.peek()
            if closing is None or closing.kind != "close":
                raise self.error(
                    _("« ) » is missing"), len(self.query) if closing is None else None
                )
            self.i += 1
            return node
        if token.kind == "field":
            name = token.value.lower()
            if name not in FIELDS:
                raise self.error(
                    _(
                        "unknown field « {field} » (fields: {fields})",
                        field=token.value,
                        fields=", ".join(FIELDS),
                    ),
                    token.position,
                )
            if field is not None:
                raise self.error(_("a field inside a field"), token.position)
            return self.primary(name)
        if token.kind in ("word", "phrase"):
            return self.term(token, field)
        if token.kind == "close":
            raise self.error(_("unopened parenthesis"), token.position)
        raise self.error(_("« {text} » needs a word after it", text=token.value), token.position)

    def _grouped_field(self, field: str) -> Node:
        """`title:(a OR b)`: every term inside is in the field."""
        start = self.i
        node = self.or_()
        return _in_field(node, field) if self.i > start else node

    def term(self, token: _Token, field: str | None) -> Term:
        text = token.value
        if field in ("site", "lang"):
            value = text.strip().lower()
            if not value:
                raise self.error(_("an empty value"), token.position)
            return Term(field, text, (value,), token.kind == "phrase")
        stems = tuple(terms(text, self.language)) if field != "entity" else (text,)
        if not stems or not stems[0]:
            raise self.error(
                _("« {text} » is too common a word to search for", text=text), token.position
            )
        return Term(field, text, stems, token.kind == "phrase" and len(stems) > 1)


def _in_field(node: Node, field: str) -> Node:
    if isinstance(node, Term):
        if node.field is not None:
            return node
        if field in ("site", "lang"):
            return Term(field, node.text, (node.text.strip().lower(),), node.phrase)
        if field == "entity":
            return Term(field, node.text, (node.text,), node.phrase)
        return Term(field, node.text, node.stems, node.phrase)
    if isinstance(node, Not):
        return Not(_in_field(node.operand, field))
    kind = type(node)
    return kind(tuple(_in_field(n, field) for n in node.operands))


def terms_of(node: Node, negated: bool = False) -> list[Term]:
    """The terms a match is about (not those under NOT): for ranking and highlighting."""
    if isinstance(node, Term):
        return [] if negated else [node]
    if isinstance(node, Not):
        return terms_of(node.operand, not negated)
    return [t for n in node.operands for t in terms_of(n, negated)]
