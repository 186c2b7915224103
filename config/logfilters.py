"""Webhook secrets never reach a log (CONVENTIONS: secrets never appear in logs).

A webhook URL is /hooks/<connector>/<secret>/, and many loggers print paths: runserver's access
log (django.server), django.request ("Not Found: …", "Forbidden: …"), gunicorn's access log, a
repr() of a request in a warning or a traceback. Redaction happens where every record is made,
whatever logger made it and whatever handler writes it (ours, Django's defaults, Celery's,
gunicorn's, a test's capture): `configure_logging` (settings.LOGGING_CONFIG) installs a record
factory whose records redact their message, string arguments and traceback. `RedactWebhookSecrets`
does the same on a handler, for records made before that (or by another factory), and also drops a
webhook request attached as `extra`; config.gunicorn_logger (gunicorn.conf.py) redacts the access
log's atoms, which gunicorn formats itself, even in a process where Django never starts."""

from __future__ import annotations

import logging
import logging.config
import re

# /hooks/<connector>/ then the secret (to the end of the path: a '/' inside it would still hide it),
# with '/' also seen percent-encoded; the last slash is kept so the path stays readable.
WEBHOOK_SECRET = re.compile(
    r"(?P<head>(?:/|%2f)hooks(?:/|%2f)[^/\s?#\"'<>]*?(?:/|%2f))(?P<secret>[^\s?#\"'<>]+?)(?P<tail>/?)(?=[\s?#\"'<>]|$)",
    re.IGNORECASE,
)
REDACTED = "***"


def redact(text: str) -> str:
    """`text` with every webhook secret in a /hooks/… path replaced by ***."""
    if "hooks" not in text.lower():
        return text  # the common case costs one scan
    return WEBHOOK_SECRET.sub(lambda m: f"{m['head']}{REDACTED}{m['tail']}", text)


def redact_value(value):
    return redact(value) if isinstance(value, str) else value


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record in place: its message template, its string arguments and, when it carries
    one, its traceback and stack (formatted here, so no formatter prints the raw ones)."""
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, dict):
        record.args = {key: redact_value(value) for key, value in record.args.items()}
    elif isinstance(record.args, tuple):
        record.args = tuple(redact_value(value) for value in record.args)
    if record.exc_info and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        if (redacted := redact(text)) != text:
            record.exc_text = redacted
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingLogRecord(logging.LogRecord):
    """A record whose message is redacted once its arguments are merged in, so an argument that
    is an object (a request, an exception) whose str() holds a webhook path is redacted too."""

    def getMessage(self) -> str:
        return redact(super().getMessage())


def _record_factory(*args, **kwargs) -> logging.LogRecord:
    return redact_record(RedactingLogRecord(*args, **kwargs))


class RedactWebhookSecrets(logging.Filter):
    """A handler filter: redacts the record and drops a webhook request attached as `extra`
    (django.request attaches the request: an error mail would print its path and META)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        request = getattr(record, "request", None)
        path = getattr(request, "path", None)
        if isinstance(path, str) and redact(path) != path:
            record.request = None
        return True


def install_record_factory() -> None:
    """Every record made from now on in this process is redacted (idempotent)."""
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)


def configure_logging(logging_settings: dict) -> None:
    """settings.LOGGING_CONFIG: the LOGGING dict, with the redacting record factory installed
    first (Django calls this in every process it starts: web, workers, manage.py, tests)."""
    install_record_factory()
    logging.config.dictConfig(logging_settings)
