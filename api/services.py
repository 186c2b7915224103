"""API keys: made in the panel or by `api_key_create`; shown once, stored hashed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone

from api.models import ApiKey, Scope
from providers import snapshots

ISTANBUL = ZoneInfo("Europe/Istanbul")


def parse_scopes(text: str | list[str]) -> list[str]:
    """'contacts,consents' or a list → the scopes in a stable order; unknown ones are an error."""
    names = [s.strip().lower() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    unknown = [s for s in names if s not in Scope.values]
    if unknown:
        raise ValidationError(
            {"scopes": f"unknown scope(s) {', '.join(unknown)}; the scopes are {', '.join(Scope.values)}"}
        )
    if not names:
        raise ValidationError({"scopes": f"name at least one scope of {', '.join(Scope.values)}"})
    return [s for s in Scope.values if s in names]


def expiry_of(day: date | None) -> datetime | None:
    """A key 'expiring 2027-01-31' works through that day in Istanbul."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=ISTANBUL)


def api_key_create(
    *, name: str, scopes: list[str], expires_on: date | None = None, created_by=None
) -> tuple[ApiKey, str]:
    """A new key; the second value is the key itself, which is never stored and cannot be shown again."""
    name = name.strip()
    if not name or len(name) > 50:
        raise ValidationError({"name": "the name must be 1 to 50 characters"})
    expires_at = expiry_of(expires_on)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expiry_date": "the expiry date is in the past"})
    return ApiKey.objects.create_key(
        name=name, scopes=parse_scopes(scopes), expiry_date=expires_at, created_by=created_by
    )


def api_key_revoke(*, api_key: ApiKey) -> None:
    api_keys_revoke(keys=ApiKey.objects.filter(pk=api_key.pk))


def api_keys_revoke(*, keys) -> int:
    """Revoke these keys for good; every web process refuses them from its next request on
    (their copies of keys are read again: providers.snapshots)."""
    count = keys.filter(revoked=False).update(revoked=True)
    snapshots.bump(snapshots.API_KEYS)
    return count


def api_key_changed(sender, **kwargs) -> None:
    """post_save / post_delete of ApiKey (api.apps): the processes' copies of keys are stale."""
    snapshots.bump(snapshots.API_KEYS)
