"""``createuser`` and ``token``: accounts for a shared install, and API tokens for them.

``mlops createuser alice --permission run_pipeline`` prints a random password
once (or reads one with ``--password-stdin``); ``mlops token create alice``
prints a token once. Tokens are stored hashed: a lost one is revoked and
replaced, never shown again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import sys
from typing import TYPE_CHECKING, Any

from .base import EXIT_DEFINITION, EXIT_OK, CommandFailed, Console
from .formatting import format_time, table

if TYPE_CHECKING:
    from django.contrib.auth.models import Permission

__all__ = ["PERMISSIONS", "register"]

#: The permissions ``--permission`` takes, by their short name.
PERMISSIONS = ("run_pipeline", "promote_model", "predict")
_APP = "django_mlops"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``createuser`` and ``token`` to the subcommand parsers."""
    create = subparsers.add_parser(
        "createuser",
        help="Make an account for a shared install.",
        description="Make a user account. Without --password-stdin a random password is "
        "printed once. Permissions: " + ", ".join(PERMISSIONS) + " or any view_<model>.",
    )
    create.add_argument("name", metavar="NAME", help="The username.")
    create.add_argument("--email", default="", help="The user's e-mail address.")
    create.add_argument(
        "--password-stdin", action="store_true", help="Read the password from standard input."
    )
    create.add_argument(
        "--permission",
        action="append",
        default=[],
        metavar="PERM",
        help="Grant django_mlops.PERM (repeatable), e.g. run_pipeline, predict.",
    )
    create.add_argument(
        "--read-only",
        action="store_true",
        help="Grant the view permission of every django_mlops record (not of tokens).",
    )
    create.add_argument("--staff", action="store_true", help="Let the user into the admin.")
    create.set_defaults(handler=create_user)

    token = subparsers.add_parser(
        "token", help="Create, list and revoke API tokens.", description="API tokens."
    )
    actions = token.add_subparsers(dest="token_command", metavar="ACTION")
    actions.required = True
    issue = actions.add_parser("create", help="Create a token for USER (printed once).")
    issue.add_argument("user", metavar="USER", help="The username.")
    issue.add_argument("--name", default="", help="What the token is for.")
    issue.add_argument(
        "--expires", type=_days, metavar="DAYS", help="Expire after DAYS days (default: never)."
    )
    issue.set_defaults(handler=create_token)
    listing = actions.add_parser("list", help="List tokens (of USER).")
    listing.add_argument("user", nargs="?", metavar="USER", help="Only this user's tokens.")
    listing.set_defaults(handler=list_tokens)
    revoke = actions.add_parser("revoke", help="Revoke a token by its prefix.")
    revoke.add_argument("prefix", metavar="PREFIX", help="The prefix `token list` shows.")
    revoke.set_defaults(handler=revoke_token)


def _days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of days, got {text!r}") from None
    if not 0 < days <= 36_500:
        raise argparse.ArgumentTypeError(f"days must be between 0 and 36500, got {text}")
    return days


def _permissions(names: list[str], read_only: bool) -> list[Permission]:
    from django.contrib.auth.models import Permission

    wanted = {name.removeprefix(f"{_APP}.") for name in names}
    found = Permission.objects.filter(content_type__app_label=_APP)
    by_codename = {p.codename: p for p in found}
    unknown = sorted(wanted - set(by_codename))
    if unknown:
        known = ", ".join(sorted(by_codename))
        raise CommandFailed(f"unknown permission {', '.join(unknown)} (known: {known})")
    if read_only:  # the records, not other users' tokens
        wanted |= {c for c in by_codename if c.startswith("view_") and c != "view_token"}
    return [by_codename[c] for c in sorted(wanted)]


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """The password and whether it was generated (then it is printed)."""
    if not args.password_stdin:
        return secrets.token_urlsafe(18), True
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandFailed("no password on standard input", EXIT_DEFINITION)
    return password, False


def create_user(args: argparse.Namespace, console: Console) -> int:
    """Make the account, grant its permissions, print the password if it was generated."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import transaction

    users: Any = get_user_model()
    if users._default_manager.filter(**{users.USERNAME_FIELD: args.name}).exists():
        raise CommandFailed(f"a user named '{args.name}' already exists")
    permissions = _permissions(args.permission, args.read_only)
    password, generated = _password(args)
    candidate = users(**{users.USERNAME_FIELD: args.name}, email=args.email)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise CommandFailed("password refused: " + " ".join(exc.messages)) from None
    with transaction.atomic():
        user = users._default_manager.create_user(
            args.name, email=args.email, password=password, is_staff=args.staff
        )
        user.user_permissions.add(*permissions)
    granted = ", ".join(f"{_APP}.{p.codename}" for p in permissions) or "none"
    console.line(f"Created user {args.name} (permissions: {granted}).")
    if generated:
        console.line(f"Password (shown once): {password}")
    return EXIT_OK


def _user(name: str) -> Any:
    from django.contrib.auth import get_user_model

    users: Any = get_user_model()
    user = users._default_manager.filter(**{users.USERNAME_FIELD: name}).first()
    if user is None:
        raise CommandFailed(f"no user named '{name}'")
    return user


def create_token(args: argparse.Namespace, console: Console) -> int:
    """Issue a token and print it once."""
    from ..tokens import issue_token

    user = _user(args.user)
    expires = dt.timedelta(days=args.expires) if args.expires else None
    token, text = issue_token(user, name=args.name, expires_in=expires)
    until = f", expires {format_time(token.expires_at)}" if token.expires_at else ""
    console.line(f"Token {token.prefix} for {args.user}{until}. Shown once; keep it secret:")
    console.line(text)
    return EXIT_OK


def list_tokens(args: argparse.Namespace, console: Console) -> int:
    """Print the tokens as a table (never their secret)."""
    from ..tokens import Token

    tokens = Token.objects.select_related("user").order_by("-created_at", "-id")
    if args.user:
        tokens = tokens.filter(user=_user(args.user))
    rows = []
    for token in tokens:
        if token.revoked_at:
            state = "revoked"
        elif not token.is_active():
            state = "expired"
        else:
            state = "active"
        rows.append(
            [
                token.prefix,
                str(token.user),
                token.name or "-",
                state,
                format_time(token.created_at),
                format_time(token.expires_at) if token.expires_at else "never",
                format_time(token.last_used_at) if token.last_used_at else "never",
            ]
        )
    if not rows:
        console.line("No tokens.")
        return EXIT_OK
    header = ["PREFIX", "USER", "NAME", "STATE", "CREATED", "EXPIRES", "LAST USED"]
    for line in table(header, rows):
        console.line(line)
    return EXIT_OK


def revoke_token(args: argparse.Namespace, console: Console) -> int:
    """Revoke the token with that prefix."""
    from ..tokens import TOKEN_PREFIX, Token

    prefix = args.prefix.removeprefix(TOKEN_PREFIX).split("_", 1)[0]
    token = Token.objects.filter(prefix=prefix).first()
    if token is None:
        raise CommandFailed(f"no token with prefix '{args.prefix}'")
    token.revoke()
    console.line(f"Token {token.prefix} of {token.user} revoked.")
    return EXIT_OK
