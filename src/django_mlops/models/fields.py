"""Shared column sizes and the recorder's JSON column."""

from __future__ import annotations

from typing import Any

from django.db import models

SHA_LENGTH = 64
NAME_LENGTH = 200


class RecordJSONField(models.JSONField):
    """A JSON column written by the recorder, whose texts are valid by construction.

    Django adds ``CHECK (JSON_VALID(col))`` to JSON columns on SQLite, which makes
    SQLite parse every value on insert. The recorder writes ``json.dumps`` output
    only, so the check is left out; everything else about ``JSONField`` is unchanged.
    """

    def db_check(self, connection: Any) -> str | None:
        """No CHECK constraint."""
        return None
