"""WhatsApp message templates (providers.md §6.4): typed records of what Meta holds, the checks
against Meta's limits before a template is submitted, and the send `components` built from plain
values, so nothing outside providers/ needs Meta's shapes."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
SENDABLE_STATUS = "APPROVED"
STOP_PROMO_PAYLOAD = "STOP_PROMO"  # the payload of our stop-promotions quick reply (read back in webhooks.py)
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
NAME = re.compile(r"^[a-z0-9_]{1,512}$")


@dataclass(frozen=True)
class Template:
    """One template in one language, as Meta lists it."""

    id: str
    name: str
    language: str
    category: str
    status: str
    components: tuple = ()  # Meta's component dicts (HEADER, BODY, FOOTER, BUTTONS …)
    rejected_reason: str = ""
    parameter_format: str = "POSITIONAL"
    previous_category: str = ""

    @property
    def sendable(self) -> bool:
        return self.status == SENDABLE_STATUS

    def parameter_counts(self) -> dict[str, int]:
        """How many parameters a send must give each component: 'header', 'body', 'button:<index>'."""
        return parameter_counts(self.components)


@dataclass(frozen=True)
class CreatedTemplate:
    id: str
    status: str
    category: str


def template_from_graph(record) -> Template | None:
    """A template from a Graph list/get record; None (logged) when the record is not one."""
    if not isinstance(record, dict) or not record.get("id") or not record.get("name"):
        logger.warning("WhatsApp template record skipped: not a template (%.200r)", record)
        return None
    components = record.get("components")
    reason = record.get("rejected_reason") or ""
    return Template(
        id=str(record["id"]),
        name=str(record["name"]),
        language=str(record.get("language") or ""),
        category=str(record.get("category") or ""),
        status=str(record.get("status") or ""),
        components=tuple(c for c in components if isinstance(c, dict)) if isinstance(components, list) else (),
        rejected_reason="" if reason == "NONE" else str(reason),
        parameter_format=str(record.get("parameter_format") or "POSITIONAL"),
        previous_category=str(record.get("previous_category") or ""),
    )


def parameter_counts(components: Sequence[Mapping]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER":
            if str(component.get("format", "TEXT")).upper() == "TEXT":
                counts["header"] = len(PLACEHOLDER.findall(str(component.get("text", ""))))
            elif str(component.get("format")).upper() in ("IMAGE", "VIDEO", "DOCUMENT"):
                counts["header"] = 1  # the media itself
        elif kind == "BODY":
            counts["body"] = len(PLACEHOLDER.findall(str(component.get("text", ""))))
        elif kind == "BUTTONS":
            for index, button in enumerate(component.get("buttons") or []):
                if str(button.get("type", "")).upper() == "URL" and PLACEHOLDER.search(str(button.get("url", ""))):
                    counts[f"button:{index}"] = 1
    return {k: v for k, v in counts.items() if v}


def send_components(
    *,
    header: Sequence[str] | Mapping[str, str] | None = None,
    body: Sequence[str] | Mapping[str, str] = (),
    buttons: Sequence[tuple[str, int, str]] = (),
    named_header: Mapping[str, str] | None = None,
) -> tuple[dict, ...]:
    """The `template.components` of a send (§6.3) from plain values.
    header: text values, or {"image"|"video"|"document": link}; body: positional values in order,
    or {name: value} for a NAMED template; buttons: (sub_type, index, value), e.g. ("url", 1, "ORDER123")
    or ("quick_reply", 0, STOP_PROMO_PAYLOAD); named_header: {name: value} for a NAMED text header."""
    components: list[dict] = []
    if named_header:
        parameters = [{"type": "text", "parameter_name": k, "text": str(v)} for k, v in named_header.items()]
        components.append({"type": "header", "parameters": parameters})
    elif isinstance(header, Mapping):
        (media, link), *_ = header.items()
        components.append({"type": "header", "parameters": [{"type": media, media: {"link": link}}]})
    elif header:
        components.append({"type": "header", "parameters": [_text(v) for v in header]})
    if isinstance(body, Mapping):
        if body:
            parameters = [{"type": "text", "parameter_name": k, "text": str(v)} for k, v in body.items()]
            components.append({"type": "body", "parameters": parameters})
    elif body:
        components.append({"type": "body", "parameters": [_text(v) for v in body]})
    for sub_type, index, value in buttons:
        parameter = {"type": "payload", "payload": value} if sub_type == "quick_reply" else _text(value)
        components.append({"type": "button", "sub_type": sub_type, "index": str(index), "parameters": [parameter]})
    return tuple(components)


def _text(value) -> dict:
    return {"type": "text", "text": str(value)}


# Meta's limits (§6.4), checked before submitting so the user hears about them in the panel
HEADER_MAX = 60
BODY_MAX = 1024
FOOTER_MAX = 60
BUTTON_LABEL_MAX = 25
URL_MAX = 2000


def template_problems(*, name: str, category: str, components: Sequence[Mapping]) -> list[str]:
    """Why Meta would refuse this template, in plain words; empty when it may be submitted."""
    problems: list[str] = []
    if not NAME.match(name or ""):
        problems.append("the name may hold only lowercase letters, digits and _ (at most 512 characters)")
    if category not in CATEGORIES:
        problems.append(f"the category must be one of {', '.join(CATEGORIES)}")
    by_type: dict[str, list[Mapping]] = {}
    for component in components:
        by_type.setdefault(str(component.get("type", "")).upper(), []).append(component)
    if len(by_type.get("HEADER", [])) > 1:
        problems.append("a template has at most one header")
    for header in by_type.get("HEADER", []):
        if str(header.get("format", "TEXT")).upper() == "TEXT":
            text = str(header.get("text", ""))
            if len(text) > HEADER_MAX:
                problems.append(f"the header has {len(text)} characters; at most {HEADER_MAX} are allowed")
            if len(PLACEHOLDER.findall(text)) > 1:
                problems.append("the header may hold at most one variable")
            example = header.get("example") or {}
            problems += _examples_missing(
                "header", text, example.get("header_text") or example.get("header_text_named_params")
            )
    bodies = by_type.get("BODY", [])
    if len(bodies) != 1:
        problems.append("a template needs exactly one body")
    for body in bodies:
        text = str(body.get("text", ""))
        if not text.strip():
            problems.append("the body is empty")
        if len(text) > BODY_MAX:
            problems.append(f"the body has {len(text)} characters; at most {BODY_MAX} are allowed")
        example = body.get("example") or {}
        positional = example.get("body_text")
        examples = positional[0] if isinstance(positional, list) and positional else None
        problems += _examples_missing("body", text, examples or example.get("body_text_named_params"))
    for footer in by_type.get("FOOTER", []):
        text = str(footer.get("text", ""))
        if len(text) > FOOTER_MAX:
            problems.append(f"the footer has {len(text)} characters; at most {FOOTER_MAX} are allowed")
        if PLACEHOLDER.search(text):
            problems.append("the footer may not hold variables")
    buttons = [b for c in by_type.get("BUTTONS", []) for b in (c.get("buttons") or [])]
    kinds = [str(b.get("type", "")).upper() for b in buttons]
    if len(buttons) > 10:
        problems.append("a template has at most 10 buttons")
    if kinds.count("URL") > 2:
        problems.append("a template has at most two website buttons")
    if kinds.count("PHONE_NUMBER") > 1:
        problems.append("a template has at most one call button")
    for button in buttons:
        label = str(button.get("text", ""))
        if len(label) > BUTTON_LABEL_MAX:
            problems.append(f"the button label {label!r} is longer than {BUTTON_LABEL_MAX} characters")
        if str(button.get("type", "")).upper() == "URL":
            url = str(button.get("url", ""))
            found = PLACEHOLDER.findall(url)
            if len(url) > URL_MAX:
                problems.append(f"a button URL is longer than {URL_MAX} characters")
            if len(found) > 1 or (found and not url.rstrip().endswith("}}")):
                problems.append("a button URL may hold one variable, at its end")
            if found and not button.get("example"):
                problems.append("a button URL with a variable needs an example value")
    return problems


def _examples_missing(where: str, text: str, examples) -> list[str]:
    needed = len(PLACEHOLDER.findall(text))
    given = len(examples) if isinstance(examples, list) else 0
    if needed and given < needed:
        return [f"every variable in the {where} needs an example ({needed} variable(s), {given} example(s))"]
    return []
