"""Telling a database refusal caused by the data (retrying cannot help) from a transient failure."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from bot.domain import InputError

# errors that say the database refused this content (a NUL character, a value too long or out of range,
# a wrong type), not that it is unreachable: retrying the same data cannot succeed
_CONTENT_ERRORS = (ValueError, TypeError, OverflowError, RecursionError, KeyError, AttributeError, InputError)


def is_content_error(error: BaseException) -> bool:
    """True when a write failed because of the data written, False when the failure is transient (database
    down or locked). Walks the cause chain (``StorageError`` wraps SQLAlchemy's errors)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, sa_exc.DataError):
            return True
        if isinstance(seen, sa_exc.StatementError) and isinstance(seen.orig, _CONTENT_ERRORS):
            return True
        if isinstance(seen, _CONTENT_ERRORS) and not isinstance(seen, OSError):
            return True
        if isinstance(seen, (sa_exc.OperationalError, sa_exc.InterfaceError, OSError, TimeoutError)):
            return False
        seen = seen.__cause__ or seen.__context__
    return False
