"""gunicorn's logger class (gunicorn.conf.py): no webhook secret in its access or error log.
A module of its own: gunicorn is imported only by the process that runs it."""

from __future__ import annotations

from gunicorn.glogging import Logger

from config.logfilters import RedactWebhookSecrets, install_record_factory, redact_value


class GunicornLogger(Logger):
    """The access log's atoms (request line, path, raw URI, referer, headers) are redacted before
    gunicorn formats its line, and its own loggers and handlers get the redacting filter."""

    def atoms(self, resp, req, environ, request_time):
        return {key: redact_value(value) for key, value in super().atoms(resp, req, environ, request_time).items()}

    def setup(self, cfg):
        super().setup(cfg)
        install_record_factory()
        for log in (self.error_log, self.access_log):
            for target in (log, *log.handlers):
                if not any(isinstance(f, RedactWebhookSecrets) for f in target.filters):
                    target.addFilter(RedactWebhookSecrets())
