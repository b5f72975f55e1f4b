"""The filter language's tokens, each with where it stands in the text (for error carets)."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["FilterError", "Token", "tokenize"]


class FilterError(ValueError):
    """A filter that cannot be read or applied: ``message``, at ``position`` for ``length``.

    ``position`` is a 0-based character offset into the filter text; ``length`` is
    how many characters are wrong (0 for something missing at the end).
    """

    def __init__(self, message: str, position: int, length: int = 1) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position
        self.length = length


@dataclass(frozen=True)
class Token:
    """One token: its kind (``word``, ``string``, ``number``, ``date``, ``op``, ``punct``)."""

    kind: str
    text: str
    value: object
    position: int

    @property
    def length(self) -> int:
        """How many characters of the filter text it covers."""
        return len(self.text)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?![\w.])")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])")
# Names of params and metrics may hold dots, slashes and dashes (``val_accuracy/svc_C1``).
_WORD = re.compile(r"[A-Za-z_][\w./-]*")
_OPERATORS = (">=", "<=", "!=", "<>", "=", "<", ">")
# Spellings from other languages, answered with the one meant.
_MISTAKES = {"=>": ">=", "=<": "<=", "==": "=", "!": "!=", "&&": "and", "||": "or"}


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``; a character that starts no token is a :class:`FilterError`."""
    for i, char in enumerate(text):
        # No database stores these in a query's text: refused here, not by a 500 there.
        if char == "\x00" or "\ud800" <= char <= "\udfff":
            raise FilterError("NUL characters and lone surrogates are not allowed", i, 1)
    tokens: list[Token] = []
    i, end = 0, len(text)
    while i < end:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        for wrong, meant in _MISTAKES.items():
            if text.startswith(wrong, i) and not any(
                text.startswith(op, i) and len(op) >= len(wrong) for op in _OPERATORS
            ):
                raise FilterError(
                    f"unknown operator '{wrong}' — did you mean '{meant}'?", i, len(wrong)
                )
        if char in "(),":
            tokens.append(Token("punct", char, char, i))
            i += 1
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if operator is not None:
            tokens.append(Token("op", operator, "!=" if operator == "<>" else operator, i))
            i += len(operator)
            continue
        if char in "'\"":
            token = _string(text, i)
            tokens.append(token)
            i += token.length
            continue
        for kind, pattern in (("date", _DATE), ("number", _NUMBER), ("word", _WORD)):
            match = pattern.match(text, i)
            if match:
                word = match.group()
                value: object = word
                if kind == "number":
                    value = float(word) if any(c in word for c in ".eE") else int(word)
                tokens.append(Token(kind, word, value, i))
                i = match.end()
                break
        else:
            raise FilterError(f"unexpected character '{char}'", i, 1)
    return tokens


def _string(text: str, start: int) -> Token:
    """A quoted string from ``start``; a backslash escapes the next character."""
    quote = text[start]
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            chars.append(text[i + 1])
            i += 2
            continue
        if char == quote:
            return Token("string", text[start : i + 1], "".join(chars), start)
        chars.append(char)
        i += 1
    raise FilterError(f"this string has no closing {quote}", start, len(text) - start)
