"""The error tree. Every error Sherlog raises on purpose is a ``SherlogError``.

- ``ConfigError``: a setting is missing or wrong; the message names the key.
- ``InputError``: a payload, bundle or file is malformed; the message says what and where.
  - ``PayloadError``: an alert payload does not match its vendor's format.
  - ``BundleError``: an evidence bundle is unreadable.
- ``StorageError``: the database could not be reached or refused a write.
- ``ConnectorError``: an external system (Prometheus, Loki, Slack, PagerDuty, ...) failed;
  raised ``from`` the transport error.
- ``RetrievalError``: the vector store or embedder failed.
- ``LLMError``: the LLM timed out, failed or returned something unusable.
- ``NotFoundError``: an incident, alert or document id that does not exist.

A user sees ``str(error)``, never a traceback.
"""


class SherlogError(Exception):
    """Root of every error Sherlog raises on purpose."""


class ConfigError(SherlogError):
    pass


class InputError(SherlogError):
    pass


class PayloadError(InputError):
    pass


class BundleError(InputError):
    pass


class StorageError(SherlogError):
    pass


class ConnectorError(SherlogError):
    pass


class RetrievalError(SherlogError):
    pass


class LLMError(SherlogError):
    pass


class NotFoundError(SherlogError):
    pass
