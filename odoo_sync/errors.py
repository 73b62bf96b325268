"""Odoo errors sorted into transient (retry later) and permanent (dead letter with Odoo's message)."""

from __future__ import annotations

#: Odoo exception names that no retry can fix: the data or the rights have to change first.
PERMANENT_NAMES: frozenset[str] = frozenset(
    {
        "odoo.exceptions.AccessError",
        "odoo.exceptions.AccessDenied",
        "odoo.exceptions.ValidationError",
        "odoo.exceptions.UserError",
        "odoo.exceptions.MissingError",
        "odoo.exceptions.RedirectWarning",
        "odoo.exceptions.except_orm",
        "builtins.ValueError",
        "builtins.TypeError",
        "builtins.KeyError",
        "builtins.AttributeError",
        "builtins.IndexError",
        "werkzeug.exceptions.Unauthorized",
        "werkzeug.exceptions.Forbidden",
        "werkzeug.exceptions.NotFound",
        "werkzeug.exceptions.UnprocessableEntity",
    }
)

#: Names (or name fragments) of failures that a later try may not meet: lock contention, a session
#: that expired, a worker restarted under us.
TRANSIENT_FRAGMENTS: tuple[str, ...] = (
    "SerializationFailure",
    "TransactionRollbackError",
    "LockNotAvailable",
    "DeadlockDetected",
    "OperationalError",
    "InterfaceError",
    "SessionExpired",
    "ConcurrencyError",
    "ServiceUnavailable",
    "PoolError",
)


class OdooError(Exception):
    """A failed Odoo call: what we tried (`what`), Odoo's exception name and its message."""

    def __init__(self, what: str, name: str = "", message: str = "") -> None:
        self.what = what
        self.name = name
        self.remote_message = message
        super().__init__(f"{what}: {name or 'error'}: {message}" if message else what)

    @property
    def remote_error(self) -> str | None:
        """Odoo's own words, as the outbox keeps them for a dead letter."""
        if not self.name and not self.remote_message:
            return None
        return f"{self.name}: {self.remote_message}".strip(": ")


class OdooTransientError(OdooError):
    """Connection refused or reset, timeout, HTTP 5xx, serialization failure, session expired."""


class OdooPermanentError(OdooError):
    """AccessError, ValidationError, UserError, MissingError and anything else a retry cannot fix."""


class OdooTimeoutError(OdooTransientError):
    """The call timed out: Odoo may or may not have applied it, so state must be read before a retry."""


class OdooAuthError(OdooPermanentError):
    """Wrong URL, database, login or API key."""


def classify(what: str, name: str, message: str, *, http_status: int | None = None) -> OdooError:
    """The error class for an Odoo exception name (and the HTTP status of JSON-2 replies)."""
    if any(fragment in name for fragment in TRANSIENT_FRAGMENTS):
        return OdooTransientError(what, name, message)
    if name in ("odoo.exceptions.AccessDenied", "werkzeug.exceptions.Unauthorized"):
        return OdooAuthError(what, name, message)
    if name in PERMANENT_NAMES:
        return OdooPermanentError(what, name, message)
    if http_status is not None and (http_status >= 500 or http_status in (408, 429)):
        return OdooTransientError(what, name, message)
    if http_status is not None and 400 <= http_status < 500:
        return OdooPermanentError(what, name, message)
    # An exception class we do not know: Odoo raised it from business code, so retrying gives the
    # same answer; a human has to look (it ends up as a dead letter with Odoo's words).
    return OdooPermanentError(what, name, message)
