"""API tokens in the admin: issued here (shown once), revoked, never edited or shown again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ..tokens import Token, issue_token

__all__ = ["TokenAdmin"]


class TokenCreationForm(forms.ModelForm):
    """Who the token is for, what for, and until when; the secret is made on save."""

    class Meta:
        """The fields a person chooses."""

        model = Token
        fields = ("user", "name", "expires_at")


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin):
    """Tokens by prefix: add one (its text is shown once, in a message), revoke, delete."""

    list_display = ("prefix", "user", "name", "created_at", "expires_at", "last_used_at", "revoked")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "name", "user__username")
    list_select_related = ("user",)
    readonly_fields = (
        "prefix",
        "user",
        "name",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ("revoke_tokens",)

    @admin.display(boolean=True, description="revoked")
    def revoked(self, token: Token) -> bool:
        """Whether the token was revoked."""
        return token.revoked_at is not None

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        """The creation form when adding; the (read-only) default otherwise."""
        if obj is None:
            kwargs["form"] = TokenCreationForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """Everything is read-only once issued: a token's fields are its history."""
        return () if obj is None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """The chosen fields when adding, every recorded field afterwards."""
        return ("user", "name", "expires_at") if obj is None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Token, form: Any, change: bool) -> None:
        """Issue the token (hashed) and show its text once."""
        if change:
            return  # nothing is editable
        token, text = issue_token(obj.user, name=obj.name)
        if obj.expires_at is not None:
            Token.objects.filter(pk=token.pk).update(expires_at=obj.expires_at)
            token.expires_at = obj.expires_at
        obj.pk = token.pk
        obj.__dict__.update(
            {k: getattr(token, k) for k in ("prefix", "digest", "created_at", "expires_at")}
        )
        messages.warning(
            request,
            f"Token for {token.user}: {text} (shown once: copy it now; only its hash is kept)",
        )

    @admin.action(description="Revoke selected tokens")
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[Token]) -> None:
        """Revoke the selected tokens (they stay listed, unusable)."""
        from django.utils import timezone

        count = queryset.filter(revoked_at=None).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)
