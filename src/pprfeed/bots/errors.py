"""Why a bot cannot start or go on, in the project's own terms: the CLI never needs the SDKs' exceptions."""

from __future__ import annotations


class BotError(Exception):
    """A bot cannot start or go on; the message says why."""


class TokenRefused(BotError):
    """The platform refused the token (the message holds the platform's reason, never the token)."""


class ServiceUnreachable(BotError):
    """The platform could not be reached (network, DNS, TLS)."""


class CannotListen(BotError):
    """The HTTP endpoint could not open its port."""


class RegistrationRefused(BotError):
    """Discord refused to register the slash command."""
