"""Webhook secrets never appear in logs (issue 12 item 11, CONVENTIONS: secrets never appear in
logs): every record any logger makes while webhooks are called (the test client, a live server
logging like runserver, a failing handler's traceback) and gunicorn's access log show the path as
/hooks/<connector>/***/."""

import io
import json
import logging
import runpy
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from django.core.servers.basehttp import WSGIRequestHandler
from django.test.testcases import QuietWSGIRequestHandler
from gunicorn.config import Config

from config.logfilters import RedactWebhookSecrets, redact
from providers.services import account_install

ROOT = Path(__file__).resolve().parents[2]


class Everything(logging.Handler):
    """Collects every record of every logger, as each would be written (message and traceback)."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record):
        self.records.append(record)
        self.lines.append(self.format(record))


@pytest.fixture
def every_log_record(caplog):
    """caplog at DEBUG, plus a handler on every logger that does not propagate (django.server)."""
    handler = Everything()
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    levels = {logger: logger.level for logger in loggers}
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    with caplog.at_level(logging.DEBUG):
        yield handler, caplog
    for logger in loggers:
        logger.removeHandler(handler)
        logger.setLevel(levels[logger])


def assert_secret_nowhere(secret, handler, caplog):
    assert handler.records, "nothing was logged: the test would prove nothing"
    for text in [caplog.text, *handler.lines, *(r.getMessage() for r in caplog.records)]:
        assert secret not in text
    for record in [*caplog.records, *handler.records]:
        assert secret not in repr(record.args) and secret not in str(record.msg)


@pytest.fixture
def account(db):
    return account_install(
        name="Infobip", connector="infobip", values={"base_url": "http://127.0.0.1:9", "api_key": "k", "sender": "M"}
    )


def test_no_webhook_request_logs_its_secret_through_the_test_client(client, account, every_log_record, settings):
    handler, caplog = every_log_record
    secret = account.webhook_secret
    url = f"/hooks/infobip/{secret}/"
    settings.WEBHOOK_EVENT_HANDLERS = ["tests.providers.test_webhook_secret_in_logs.handler_that_names_the_url"]
    assert client.get(url).status_code == 200
    assert client.post(url, data=b"{}", content_type="application/json").status_code == 200
    body = json.dumps({"results": [{"messageId": "x-1", "status": {"id": 5}}]}).encode()
    assert client.post(url, data=body, content_type="application/json").status_code == 200  # handler fails
    assert client.post(f"/hooks/netgsm/{secret}/").status_code == 404  # "Not Found: /hooks/…"
    assert client.post(f"/hooks/infobip/{secret}x/").status_code == 404
    assert client.post(f"/hooks/infobip/{secret}").status_code in (301, 404)  # no trailing slash
    assert client.put(url).status_code == 405
    lines = "\n".join(handler.lines)
    assert "Not Found: /hooks/netgsm/***/" in lines and "/hooks/infobip/***/" in lines
    assert any(r.exc_info for r in handler.records)  # the failing handler's traceback was logged, redacted
    assert_secret_nowhere(secret, handler, caplog)


def handler_that_names_the_url(*, account_id, events):
    from providers.models import ProviderAccount

    url = ProviderAccount.objects.get(pk=account_id).webhook_url
    logging.getLogger("providers.test").warning("processing %s", url)
    logging.getLogger("providers.test").warning(f"processing {url} again")  # the path in the template itself
    raise RuntimeError(f"could not process the webhook at {url}")


@pytest.mark.django_db(transaction=True)
def test_runserver_access_log_never_shows_the_secret(live_server, every_log_record, monkeypatch):
    """The live server logs each request the way runserver does (django.server)."""
    handler, caplog = every_log_record
    monkeypatch.setattr(QuietWSGIRequestHandler, "log_message", WSGIRequestHandler.log_message)
    account = account_install(
        name="Infobip", connector="infobip", values={"base_url": "http://127.0.0.1:9", "api_key": "k", "sender": "M"}
    )
    url = f"{live_server.url}/hooks/infobip/{account.webhook_secret}/"
    assert requests.post(url, json={"results": []}, timeout=10).status_code == 200
    assert requests.post(url.replace("/infobip/", "/instasent/"), json={}, timeout=10).status_code == 404
    deadline = time.monotonic() + 5  # the server logs a request after it has answered it
    while len(access := [r for r in handler.records if r.name == "django.server"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(access) == 2 and "/hooks/infobip/***/" in access[0].getMessage()
    assert_secret_nowhere(account.webhook_secret, handler, caplog)


def test_gunicorn_access_log_never_shows_the_secret(tmp_path):
    """gunicorn.conf.py names the logger class; its access log (a file here, stdout in the
    Procfile) shows the request line, path, raw URI and referer redacted."""
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    cfg = Config()
    cfg.set("logger_class", conf["logger_class"])
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("access_log_format", '%(h)s "%(r)s" %(s)s %(U)s %({raw_uri}e)s "%(f)s" %({x-forwarded-uri}i)s')
    logger = cfg.logger_class(cfg)
    secret = "Sx7-secret_value"
    path = f"/hooks/infobip/{secret}/"
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": path,
        "PATH_INFO": path,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "QUERY_STRING": "",
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_REFERER": f"https://panel.example{path}",
    }
    request = SimpleNamespace(headers=[("X-FORWARDED-URI", path)])
    response = SimpleNamespace(status="200 OK", sent=2, headers=[])
    logger.access(response, request, environ, timedelta(milliseconds=3))
    logger.error("bad request %s", path)  # the error log gets the filter too
    for handler in logger.access_log.handlers + logger.error_log.handlers:
        handler.flush()
    written = (tmp_path / "access.log").read_text()
    assert secret not in written
    assert '"POST /hooks/infobip/***/ HTTP/1.1" 200 /hooks/infobip/***/ /hooks/infobip/***/' in written
    assert "https://panel.example/hooks/infobip/***/" in written


def test_the_redacting_filter_on_a_record_made_elsewhere():
    """A record made before the factory was installed (or by another one) is redacted by the
    handler filter, traceback included, and loses an attached webhook request."""
    secret = "Sx7-secret_value"
    try:
        raise ValueError(f"at /hooks/instasent/{secret}/")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "Forbidden: %s", (f"/hooks/i/{secret}/",), exc_info)
    record.request = SimpleNamespace(path=f"/hooks/i/{secret}/")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactWebhookSecrets())
    handler.handle(record)
    assert secret not in stream.getvalue() and "Forbidden: /hooks/i/***/" in stream.getvalue()
    assert "ValueError: at /hooks/instasent/***/" in stream.getvalue()
    assert record.request is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("/hooks/infobip/abc/", "/hooks/infobip/***/"),
        ("POST /hooks/infobip/abc HTTP/1.1", "POST /hooks/infobip/*** HTTP/1.1"),
        ("https://h/hooks/infobip/abc/?a=1", "https://h/hooks/infobip/***/?a=1"),
        ("<WSGIRequest: POST '/hooks/whatsapp/abc/'>", "<WSGIRequest: POST '/hooks/whatsapp/***/'>"),
        ("/hooks%2Finfobip%2Fabc%2F", "/hooks%2Finfobip%2F***"),
        ("/hooks/a%2Fb/abc/", "/hooks/a%2F***/"),  # a slash inside still hides all of it
        ("/hooks/infobip/", "/hooks/infobip/"),
        ("/admin/hooks", "/admin/hooks"),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected
