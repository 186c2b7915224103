"""Dashboard contributions: each app lists callables in settings.DASHBOARD_FIGURES (the live
figures) and settings.DASHBOARD_PANELS (blocks of the page: getting started, charts, recent
campaigns); each checks the user's permissions. Charts are drawn by static/panel/charts.js from
a JSON endpoint shaped by `ChartData`."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: str | int
    detail: str = ""
    state: str = "ok"  # ok | warn | bad
    url: str = ""

    def as_dict(self) -> dict:
        return {k: str(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Panel:
    """A block of the dashboard: `template` rendered with `context`; `wide` spans the page."""

    key: str
    template: str
    context: dict = field(default_factory=dict)
    wide: bool = True


@dataclass
class Series:
    key: str  # also the CSS class of its colour (static/panel/panel.css: .series-<key>)
    label: str
    values: list[int]


@dataclass
class ChartData:
    """What static/panel/charts.js draws: `kind` bars (stacked) or lines, one x label per bucket
    (`labels`, in the user's language; `keys` their ISO value), the series, the axis titles and
    what to say when there is nothing to draw."""

    kind: str
    keys: list[str]
    labels: list[str]
    series: list[Series]
    x_label: str
    y_label: str
    empty: str

    @property
    def total(self) -> int:
        return sum(sum(s.values) for s in self.series)

    def as_dict(self) -> dict:
        return {**asdict(self), "total": self.total}


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)  # Europe/Istanbul: the days and hours the panel speaks of


def last_days(days: int, *, now: datetime | None = None) -> tuple[list[date], datetime]:
    """The last `days` calendar days in local time (today last) and the instant the first begins."""
    today = timezone.localtime(now or timezone.now(), local_zone()).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=local_zone())
    return [first + timedelta(days=n) for n in range(days)], start


def collect_figures(sources, *, request) -> list[Figure]:
    figures: list[Figure] = []
    for source in sources:
        try:
            figures.extend(source(request=request))
        except Exception:  # one broken figure must not take the dashboard down
            logger.exception("dashboard figure source %s failed", getattr(source, "__qualname__", source))
            figures.append(
                Figure(
                    key=f"error-{source.__module__}",
                    label=source.__module__,
                    value="?",
                    detail="unavailable, see the server log",
                    state="bad",
                )
            )
    return figures


def collect_panels(sources, *, request) -> list[Panel]:
    panels: list[Panel] = []
    for source in sources:
        try:
            panels.extend(source(request=request))
        except Exception:  # like a figure: a broken block leaves the rest of the page
            logger.exception("dashboard panel source %s failed", getattr(source, "__qualname__", source))
    return panels
