"""Per-process copies of rows read on every request (API keys, connector accounts), kept right by
a token in the shared cache: every write of those rows sets a new random token after its commit,
and a process uses its copy only while the token it reads is the one it loaded the copy under.

A token is random, not a counter, so an emptied cache (Redis restarted) never brings an old
number back: a missing token is made afresh and every copy is loaded again. A copy is also
loaded again after MAX_AGE seconds, whatever the token says (a change made around the panel,
in SQL, is seen within that time).

The API reads the tokens in the same Redis round trip as its rate limit (api.ratelimit) and
lends them to the request (`lent`); elsewhere a look-up reads its token from the cache."""

from __future__ import annotations

import contextlib
import contextvars
import secrets
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models.signals import post_delete, post_migrate, post_save

T = TypeVar("T")
MAX_AGE = 30.0  # seconds
ACCOUNTS = "snapshot:provider-accounts"  # the cache keys of the tokens
API_KEYS = "snapshot:api-keys"

NAMES: set[str] = {ACCOUNTS, API_KEYS}  # every token, made afresh after migrate (and a test's flush)

# tokens already read for the current request: name → token (None: read from the cache)
_lent: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("snapshot_tokens", default=None)


def new_token() -> str:
    return secrets.token_hex(8)


def token(name: str) -> str:
    """The token `name` now: the one lent to this request, else the cache's (made if missing)."""
    lent = _lent.get()
    if lent is not None and lent.get(name) is not None:
        return lent[name]
    found = cache.get(name)
    if found is None:
        cache.add(name, new_token(), timeout=None)
        found = cache.get(name) or new_token()  # an unusable cache: a token nobody has, so nothing is reused
    return found


def bump(name: str) -> None:
    """Every copy under `name` is stale: now, and again after the current transaction commits (a
    process that loaded its copy in between read the rows as they were before the commit)."""
    cache.set(name, new_token(), timeout=None)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache.set(name, new_token(), timeout=None))


def lend(tokens: dict[str, str | None]) -> contextvars.Token:
    """Until unlend(), token() answers from `tokens` (read by the caller together with other work)."""
    return _lent.set(tokens)


def unlend(reset: contextvars.Token) -> None:
    _lent.reset(reset)


class Snapshot(Generic[T]):
    """One value loaded by `load()` and kept while the token `name` stays the same."""

    def __init__(self, name: str, load: Callable[[], T]):
        self.name, self.load = name, load
        NAMES.add(name)
        self._kept: tuple[str, float, T] | None = None  # (token, loaded at, value): replaced whole
        self._checked = 0.0  # when recent() last confirmed the copy by its token

    def get(self) -> T:
        if transaction.get_connection().in_atomic_block:
            # inside a transaction the rows may be its own, not yet committed (or rolled back
            # later, which no signal tells): read them, keep nothing
            return self.load()
        current = token(self.name)  # read before loading: a write after it makes the next get load again
        kept = self._kept
        if kept is not None and kept[0] == current and time.monotonic() - kept[1] < MAX_AGE:
            return kept[2]
        value = self.load()
        self._kept = (current, time.monotonic(), value)
        return value

    def recent(self, max_age: float) -> T:
        """The copy without reading the token if it was confirmed less than `max_age` seconds ago;
        else get(). For a caller that looks again with fresh() when what it needs is not found
        (the webhook view: a secret or signature not in the copy), so only a change that removes
        something is seen up to `max_age` late."""
        kept = self._kept
        now = time.monotonic()
        if kept is not None and now - self._checked < max_age and not transaction.get_connection().in_atomic_block:
            return kept[2]
        value = self.get()
        self._checked = now
        return value

    def fresh(self) -> T:
        """Loaded now, whatever the token says (and kept under it)."""
        if transaction.get_connection().in_atomic_block:
            return self.load()
        current = token(self.name)
        value = self.load()
        self._kept = (current, time.monotonic(), value)
        self._checked = time.monotonic()
        return value

    def clear(self) -> None:
        """Forget the copy (tests: another process starting)."""
        self._kept = None


def _accounts():
    from providers.models import ProviderAccount

    return tuple(ProviderAccount.objects.filter(is_active=True).order_by("pk"))


ACTIVE_ACCOUNTS: Snapshot[tuple] = Snapshot(ACCOUNTS, _accounts)


def active_accounts(channel: str | None = None) -> list:
    """The active connector accounts (of `channel`), by id: copies, so a caller may change them."""
    import copy

    found = []
    for account in ACTIVE_ACCOUNTS.get():
        if channel is None or account.channel == channel:
            account = copy.copy(account)
            account.settings = copy.deepcopy(account.settings)
            found.append(account)
    return found


def _accounts_changed(sender, **kwargs) -> None:
    bump(ACCOUNTS)


def _tables_rewritten(sender, **kwargs) -> None:
    # after migrate, and after a test's flush (which deletes rows without signals)
    for name in NAMES:
        # the first migrate: the database cache's table is not made yet
        with contextlib.suppress(DatabaseError):
            cache.set(name, new_token(), timeout=None)


def connect() -> None:
    """Called from ProvidersConfig.ready(): every save or delete of an account sets a new token."""
    from providers.models import ProviderAccount

    post_save.connect(_accounts_changed, sender=ProviderAccount, dispatch_uid="snapshot-accounts-saved")
    post_delete.connect(_accounts_changed, sender=ProviderAccount, dispatch_uid="snapshot-accounts-deleted")
    post_migrate.connect(_tables_rewritten, dispatch_uid="snapshot-tables-rewritten")
