"""The filter language's grammar: its fields, its syntax tree and its parser.

See ``experiments/query.py`` for the language and for applying a parsed filter to
runs. Every mistake is a :class:`FilterError` naming what is wrong and where.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from .tokens import FilterError, Token, tokenize

__all__ = ["FIXED_FIELDS", "Comparison", "Field", "FilterExpr", "Junction", "Value", "parse_filter"]

# Field -> (Run column, kind of value it takes).
FIXED_FIELDS: dict[str, tuple[str, str]] = {
    "status": ("status", "text"),
    "pipeline": ("pipeline", "text"),
    "started": ("started_at", "date"),
    "finished": ("finished_at", "date"),
    "created": ("created_at", "date"),
    "duration": ("duration", "number"),
    "started_by": ("created_by__username", "text"),
    "git_commit": ("git_commit", "text"),
    "id": ("id", "number"),
}
_FIELDS_HELP = "fields are params.NAME, metrics.NAME, " + ", ".join(FIXED_FIELDS)
_KEYWORDS = {"and", "or", "not", "in", "like"}
_CONSTANTS = {"true": True, "false": False, "null": None}


@dataclass(frozen=True)
class Field:
    """A field of the language: ``kind`` is ``param``, ``metric`` or a fixed field's kind."""

    kind: str
    name: str
    position: int
    length: int


@dataclass(frozen=True)
class Value:
    """A literal, with where it stands."""

    value: Any
    is_date: bool
    position: int
    length: int


@dataclass(frozen=True)
class Comparison:
    """``field op value``; ``op`` is ``in``/``like`` (maybe ``negated``) or a comparison."""

    field: Field
    op: str
    values: tuple[Value, ...]
    negated: bool = False


@dataclass(frozen=True)
class Junction:
    """``and``/``or`` of parts, or ``not`` of one part."""

    kind: str
    parts: tuple[FilterExpr, ...]


FilterExpr = Comparison | Junction


def parse_filter(text: str) -> FilterExpr | None:
    """The parsed filter (``None`` for a blank one), or a :class:`FilterError`."""
    parser = _Parser(text)
    if not parser.tokens:
        return None
    expr = parser.expr()
    if parser.index < len(parser.tokens):
        token = parser.tokens[parser.index]
        raise FilterError(
            f"expected 'and', 'or' or the end, found '{token.text}'", token.position, token.length
        )
    return expr


class _Parser:
    """Recursive descent over the tokens; ``index`` is the next token."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    def _peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token is not None and token.kind == "word" and token.text.lower() == word:
            self.index += 1
            return True
        return False

    def _punct(self, char: str) -> bool:
        token = self._peek()
        if token is not None and token.kind == "punct" and token.text == char:
            self.index += 1
            return True
        return False

    def _missing(self, what: str) -> FilterError:
        token = self._peek()
        if token is None:
            return FilterError(f"expected {what} at the end", len(self.text), 0)
        return FilterError(f"expected {what}, found '{token.text}'", token.position, token.length)

    def expr(self) -> FilterExpr:
        parts = [self.term()]
        while self._keyword("or"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Junction("or", tuple(parts))

    def term(self) -> FilterExpr:
        parts = [self.factor()]
        while self._keyword("and"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else Junction("and", tuple(parts))

    def factor(self) -> FilterExpr:
        if self._keyword("not"):
            return Junction("not", (self.factor(),))
        opening = self._peek()
        if self._punct("("):
            inner = self.expr()
            if not self._punct(")"):
                assert opening is not None
                if self._peek() is None:
                    raise FilterError("this '(' is never closed", opening.position, 1)
                raise self._missing("')'")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        field = self.field()
        negated = self._keyword("not")
        if self._keyword("in"):
            return Comparison(field, "in", self._list(), negated)
        if self._keyword("like"):
            token = self._peek()
            if token is None or token.kind != "string":
                raise self._missing("a quoted pattern after 'like'")
            self.index += 1
            return Comparison(field, "like", (self._value(token),), negated)
        if negated:
            raise self._missing("'in' or 'like' after 'not'")
        token = self._peek()
        if token is None or token.kind != "op":
            written = self.text[field.position : field.position + field.length]
            raise self._missing(f"an operator (=, !=, <, <=, >, >=, in, like) after '{written}'")
        self.index += 1
        return Comparison(field, str(token.value), (self.value(f"after '{token.text}'"),))

    def field(self) -> Field:
        token = self._peek()
        if token is None or token.kind != "word" or token.text.lower() in _KEYWORDS:
            raise self._missing("a field (params.NAME, metrics.NAME, status, ...)")
        self.index += 1
        name = token.text
        for prefix, kind in (("params.", "param"), ("metrics.", "metric")):
            if name.startswith(prefix) and len(name) > len(prefix):
                return Field(kind, name[len(prefix) :], token.position, token.length)
        if name.lower() in FIXED_FIELDS:
            return Field(FIXED_FIELDS[name.lower()][1], name.lower(), token.position, token.length)
        raise FilterError(
            f"unknown field '{name}'{_suggestion(name)} — {_FIELDS_HELP}",
            token.position,
            token.length,
        )

    def value(self, where: str) -> Value:
        token = self._peek()
        if token is None or token.kind in ("op", "punct") or token.text.lower() in _KEYWORDS:
            raise self._missing(f"a value {where}")
        self.index += 1
        return self._value(token)

    def _value(self, token: Token) -> Value:
        value = token.value
        if token.kind == "word" and token.text.lower() in _CONSTANTS:
            value = _CONSTANTS[token.text.lower()]
        return Value(value, token.kind == "date", token.position, token.length)

    def _list(self) -> tuple[Value, ...]:
        if not self._punct("("):
            raise self._missing("'(' after 'in'")
        values = [self.value("in the list")]
        while self._punct(","):
            values.append(self.value("after ','"))
        if not self._punct(")"):
            raise self._missing("',' or ')' in the list")
        return tuple(values)


def _suggestion(name: str) -> str:
    candidates = [*FIXED_FIELDS, "params.", "metrics."]
    if "." in name:
        candidates = ["params." + name.split(".", 1)[1], "metrics." + name.split(".", 1)[1]]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
