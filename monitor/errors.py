"""One root error with a branch per concern.

Library code raises these; the CLI turns them into one-line messages at the edge
(``message: cause``), and the collection loop records them per source.
"""

from __future__ import annotations


class MonitorError(Exception):
    """Root of every error this package raises on purpose."""

    def __str__(self) -> str:
        message = super().__str__()
        cause = self.__cause__
        if cause is not None and str(cause) and str(cause) not in message:
            return f"{message}: {cause}"
        return message


class ConfigError(MonitorError):
    """The configuration file is missing, unreadable or invalid.

    ``problems`` holds one ``"file: dotted.key: what is wrong"`` line per problem.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class StorageError(MonitorError):
    """The database could not be opened, migrated or written."""


class CollectorError(MonitorError):
    """A source could not be fetched or parsed. Affects that source only."""

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class FetchError(CollectorError):
    """The HTTP request failed: network error, timeout, size cap, bad status.

    ``body`` holds the start of an error answer (an API's JSON explanation), if any.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = None,
                 body: bytes = b""):
        super().__init__(message, retry_after=retry_after, status=status)
        self.body = body


class ParseError(CollectorError):
    """The response arrived but is not a usable feed or API answer."""


class TaggerError(MonitorError):
    """The tagging pipeline could not be loaded, trained or run."""


class DigestError(MonitorError):
    """A digest could not be built, archived or sent."""


class MailError(MonitorError):
    """An email could not be sent: configuration, connection, TLS, login or refusal."""


class QueryError(MonitorError):
    """A search query, filter or saved query the user gave cannot be run as written."""


class AlertError(MonitorError):
    """Alerts could not be checked or delivered (a webhook refused, no URL configured ...)."""
