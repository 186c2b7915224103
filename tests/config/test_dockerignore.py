"""The image carries no secrets, databases, uploads or local leftovers (.dockerignore, issue 12)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def docker_patterns() -> list[tuple[bool, re.Pattern]]:
    """(is an exception, regex) per line, matched as Docker does: paths from the context root,
    `*` within one path part, `**` across parts; a match on a folder excludes what it holds."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        rules.append((negate, re.compile(regex + "(?:/.*)?")))
    return rules


def ignored(path: str) -> bool:
    verdict = False
    for negate, regex in docker_patterns():
        if regex.fullmatch(path):
            verdict = not negate
    return verdict


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        "config/.env",
        ".env.production",
        ".secret_key",
        ".field_encryption_key",
        "server.pem",
        "deploy/certs/tls.key",
        "db.sqlite3",
        "db.sqlite3-journal",
        "db.sqlite3-wal",
        "bench/run.sqlite3",
        "media/transfers/upload.csv",
        "staticfiles/admin/css/base.css",
        ".venv/bin/python",
        ".git/HEAD",
        "test-artifacts/worker-default.log",
        ".hypothesis/examples/abc",
        ".pytest_cache/v/cache/nodeids",
        "contacts/__pycache__/models.cpython-311.pyc",
        ".broker/queue/1.msg",
    ],
)
def test_secrets_databases_and_leftovers_stay_out_of_the_image(path):
    assert ignored(path), f"{path} would be copied into the image"


@pytest.mark.parametrize(
    "path",
    [
        "manage.py",
        "config/settings.py",
        "requirements.txt",
        ".env.example",
        "static/panel/bars.js",
        "templates/admin/login.html",
    ],
)
def test_the_application_itself_goes_in(path):
    assert not ignored(path)
