"""Dashboard figures: each app contributes a callable listed in settings.DASHBOARD_FIGURES."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

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
