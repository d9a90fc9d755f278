"""Logging: structlog set-up and the redaction every log line passes through.

Log events are stable snake_case names with structured fields. Before anything is
rendered, :func:`redact` masks values of secret-looking keys (``client_secret``,
``api_key``, ``access_token`` ...) and scrubs free text of e-mail addresses, bearer tokens,
JWTs, Brevo API keys and secret query parameters. E-mail addresses become a short stable
digest (``<email:3f1c0a9b2e>``) so that lines about one person can still be correlated.

Lines of libraries logging through the standard library (Alembic, uvicorn, httpx) are
rendered by the same processors, in the same format: their message is the ``event`` and
the logger's name the ``logger`` field.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO, cast

import structlog
from pydantic import SecretBytes, SecretStr

MASK = "**********"

_SENSITIVE_KEY = re.compile(
    r"secret|token|password|passwd|authorization|cookie|signature|credential"
    r"|(api|access|private|encryption)[_-]?key",
    re.IGNORECASE,
)
# A local part may hold "'" (o'brien@) but not start with one: 'ada@example.com' is quoted.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-][A-Za-z0-9._%+'-]*(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_TEXT_SECRETS = (
    (re.compile(r"\b(xkeysib|xsmtpsib)-[A-Za-z0-9-]+"), r"\1-" + MASK),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), MASK),
    (
        re.compile(
            r"(?i)\b(access_token|refresh_token|client_secret|api[_-]?key|code|token|secret)"
            r"=[^&\s\"']+"
        ),
        r"\1=" + MASK,
    ),
)
_LEVELS = {"verbose": logging.DEBUG, "debug": logging.DEBUG, "info": logging.INFO}
_LEVELS |= {"warning": logging.WARNING, "error": logging.ERROR}


def mask_email(address: str) -> str:
    """A stable, non-reversible stand-in for an e-mail address."""
    normalised = address.replace("%40", "@").lower().encode()
    return f"<email:{hashlib.sha256(normalised).hexdigest()[:10]}>"


def scrub(text: str) -> str:
    """``text`` with e-mail addresses, tokens and API keys masked."""
    text = _EMAIL.sub(lambda match: mask_email(match.group(0)), text)
    for pattern, replacement in _TEXT_SECRETS:
        text = pattern.sub(replacement, text)
    return text


def is_sensitive_key(key: str) -> bool:
    """Whether values under ``key`` are secrets (``client_secret``, ``api_key``...)."""
    return bool(_SENSITIVE_KEY.search(key))


def redact_value(value: Any) -> Any:
    """``value`` with secrets and e-mail addresses masked, recursively."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, SecretStr | SecretBytes):
        return MASK
    if isinstance(value, Mapping):
        return redact_mapping(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item) for item in value]
    if isinstance(value, bytes):
        return scrub(value.decode("utf-8", "replace"))
    return scrub(value if isinstance(value, str) else str(value))


def redact_mapping(mapping: Mapping[Any, Any]) -> dict[Any, Any]:
    """A copy of ``mapping`` with secret-keyed values masked and the rest redacted."""
    return {key: _redact_item(str(key), value) for key, value in mapping.items()}


def _redact_item(key: str, value: Any) -> Any:
    numeric = value is None or isinstance(value, bool | int | float)
    if is_sensitive_key(key) and not numeric:
        return MASK
    return redact_value(value)


def redact(
    _logger: Any, _method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secrets and e-mail addresses in every field."""
    return redact_mapping(event_dict)


class RedactingFilter(logging.Filter):
    """stdlib logging filter (httpx, uvicorn ...) applying :func:`scrub` to messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message in place; never drop it."""
        record.msg = scrub(record.getMessage())
        record.args = None
        return True


def log_style(*, debug: bool, log_level: str) -> tuple[int, bool]:
    """(stdlib level, JSON output?) for the configured ``debug`` / ``log_level``.

    ``verbose`` and ``debug: true`` give JSON lines carrying every field; the other
    levels a short human-readable line.
    """
    json_output = debug or log_level == "verbose"
    level = logging.DEBUG if debug else _LEVELS.get(log_level, logging.INFO)
    return level, json_output


def configure_logging(
    level: int = logging.INFO,
    *,
    json_output: bool = False,
    stream: TextIO | None = None,
    log_requests: bool = False,
) -> None:
    """Set up structlog (and stdlib logging) to write redacted lines to ``stream``.

    ``log_requests`` lets httpx log every request line (at ``verbose``); otherwise third
    party libraries only log warnings.
    """
    out = stream if stream is not None else cast(TextIO, _CurrentStderr())
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=True)
        if json_output
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, *_stamping(), redact, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    _configure_stdlib(level, out, renderer, log_requests=log_requests)


def _stamping() -> list[Any]:
    return [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at write time (it may be swapped, as in tests)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _configure_stdlib(level: int, stream: TextIO, renderer: Any, *, log_requests: bool) -> None:
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *_stamping()],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, redact,
                        renderer],
        )
    )  # fmt: skip
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    quiet = logging.DEBUG if log_requests else logging.WARNING
    for name in ("httpx", "httpcore", "uvicorn", "uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).setLevel(max(level, quiet))
