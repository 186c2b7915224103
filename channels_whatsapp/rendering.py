"""A template's variables filled in for one contact (pure functions, no ORM).

Bindings say where each variable's value comes from, per part of the template:
    {"header": {"1": {"source": "name", "default": "Müşterimiz"}},
     "body": {"1": {"source": "name", "default": ""}, "2": {"value": "ABC-123"}},
     "button:0": {"1": {"source": "order_id", "default": ""}}}
A media header (image, video, document) has one "variable", its link: {"header": {"1": {"default":
"https://…/banner.jpg"}}} (or a source naming an attribute that holds a link per contact).
`source` is a contact field (external_id, email, phone, whatsapp_number) or a profile attribute;
`value` is a literal (a single send's --var 1=VALUE); `default` is used when the contact has no
value. A campaign's bindings override the template's, variable by variable. The request then
carries exactly the parameters the approved template expects: as many as its text has variables,
in order, none empty (Meta refuses an empty one, and a missing one is error 132000).

A variable is named in words ("the body's {{2}}") in the active language: the panel's problems and
preview notes are in the user's; a message's failure reason is stored in English like every send
reason (channel.py fills under translation.override("en")), and the API answers in English."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from providers.whatsapp.templates import PLACEHOLDER, STOP_PROMO_PAYLOAD, send_components

MEDIA = ("IMAGE", "VIDEO", "DOCUMENT")


@dataclass
class Filled:
    components: tuple = ()  # the send components (providers.whatsapp.templates.send_components)
    text: str = ""  # the body as the recipient reads it (the message row keeps it)
    missing: list[str] = field(default_factory=list)  # "body {{2}} (city)": no value and no default


def template_parts(components: Sequence[Mapping]) -> dict[str, str]:
    """The texts that hold variables: 'header', 'body', 'button:<index>' (URL buttons); a media
    header is 'header' with the format (IMAGE, …) as its text."""
    parts: dict[str, str] = {}
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER":
            form = str(component.get("format", "TEXT")).upper()
            parts["header"] = form if form in MEDIA else str(component.get("text", ""))
        elif kind == "BODY":
            parts["body"] = str(component.get("text", ""))
        elif kind == "BUTTONS":
            for index, button in enumerate(component.get("buttons") or []):
                if str(button.get("type", "")).upper() == "URL":
                    parts[f"button:{index}"] = str(button.get("url", ""))
    return parts


def quick_replies(components: Sequence[Mapping]) -> list[int]:
    """The indexes of the quick-reply buttons (the stop-promotions button is the one we make)."""
    return [
        index
        for component in components
        if str(component.get("type", "")).upper() == "BUTTONS"
        for index, button in enumerate(component.get("buttons") or [])
        if str(button.get("type", "")).upper() == "QUICK_REPLY"
    ]


def variables_of(components: Sequence[Mapping]) -> dict[str, list[str]]:
    """Each part's variables in order of appearance (each once): {'body': ['1', '2'], …}."""
    found: dict[str, list[str]] = {}
    for part, text in template_parts(components).items():
        if part == "header" and text in MEDIA:
            found[part] = ["1"]  # the media's link
            continue
        names = list(dict.fromkeys(PLACEHOLDER.findall(text)))
        if names:
            found[part] = names
    return found


def merged_bindings(template_bindings: Mapping | None, campaign_bindings: Mapping | None) -> dict:
    """The campaign's bindings over the template's, variable by variable."""
    merged: dict = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in (template_bindings or {}).items()}
    for part, entries in (campaign_bindings or {}).items():
        if isinstance(entries, Mapping) and isinstance(merged.get(part), dict):
            merged[part].update(entries)
        else:
            merged[part] = dict(entries) if isinstance(entries, Mapping) else entries
    return merged


def binding_problems(components: Sequence[Mapping], bindings: Mapping) -> list[str]:
    """Variables bound to nothing (no source, no value, no default), and a media header without
    its media: a campaign with any of them cannot start."""
    problems = []
    media_header = template_parts(components).get("header") in MEDIA
    for part, names in variables_of(components).items():
        for name in names:
            entry = (bindings.get(part) or {}).get(name) if isinstance(bindings.get(part), Mapping) else None
            if isinstance(entry, Mapping) and any(
                str(entry.get(k) or "").strip() for k in ("source", "value", "default")
            ):
                continue
            if part == "header" and media_header:  # its one "variable" is the media's link
                problems.append(_("the header is a picture, video or document: give the link of the one to send"))
            else:
                problems.append(
                    _("%(variable)s is bound to nothing: choose a field or give a default")
                    % {"variable": _variable(part, name)}
                )
    return problems


def fill(components: Sequence[Mapping], bindings: Mapping, values: Mapping[str, object]) -> Filled:
    """The send components and the body text for a contact with `values` (messaging.rendering.contact_values)."""
    parts = template_parts(components)
    filled = Filled()
    resolved: dict[str, list[str]] = {}
    named: dict[str, bool] = {}
    for part, names in variables_of(components).items():
        resolved[part] = []
        named[part] = any(not n.isdigit() for n in names)
        for name in names:
            entry = (bindings.get(part) or {}).get(name) if isinstance(bindings.get(part), Mapping) else None
            value = _value(entry, values)
            if not value:
                source = entry.get("source") if isinstance(entry, Mapping) else None
                filled.missing.append(_variable(part, name) + (f" ({source})" if source else ""))
            resolved[part].append(value)
    header, named_header = None, None
    if parts.get("header") in MEDIA:
        header = {parts["header"].lower(): resolved["header"][0]}
    elif "header" in resolved and named.get("header"):
        named_header = dict(zip(variables_of(components).get("header", []), resolved["header"], strict=True))
    elif "header" in resolved:
        header = resolved["header"]
    body_names = variables_of(components).get("body", [])
    body = resolved.get("body", [])
    filled.components = send_components(
        header=header,
        named_header=named_header,
        body=dict(zip(body_names, body, strict=True)) if named.get("body") else body,
        buttons=[
            *[("url", int(p.split(":")[1]), vals[0]) for p, vals in resolved.items() if p.startswith("button:")],
            # a tap on the stop button comes back with our payload, whatever its label (webhooks.py)
            *[("quick_reply", index, STOP_PROMO_PAYLOAD) for index in quick_replies(components)],
        ],
    )
    substitutions = dict(zip(body_names, body, strict=True))
    filled.text = PLACEHOLDER.sub(lambda m: substitutions.get(m.group(1), m.group(0)), parts.get("body", ""))
    return filled


def required_sources(components: Sequence[Mapping], bindings: Mapping) -> list[tuple[str, str]]:
    """(variable, contact field or attribute) for each variable that takes a contact's value with
    no fixed value and no default: a contact without that value cannot get the message."""
    required = []
    for part, names in variables_of(components).items():
        for name in names:
            entry = (bindings.get(part) or {}).get(name) if isinstance(bindings.get(part), Mapping) else None
            if not isinstance(entry, Mapping) or not entry.get("source"):
                continue
            if str(entry.get("value") or "").strip() or str(entry.get("default") or "").strip():
                continue
            required.append((_variable(part, name), str(entry["source"])))
    return required


def _value(entry, values: Mapping[str, object]) -> str:
    if not isinstance(entry, Mapping):
        return ""
    if str(entry.get("value") or "").strip():
        return str(entry["value"]).strip()
    source = entry.get("source")
    found = values.get(source) if source else None
    text = "" if found is None else str(found).strip()
    return text or str(entry.get("default") or "").strip()


def _variable(part: str, name: str) -> str:
    """A variable in words: "the body's {{2}}", "the link of button 1 {{1}}" (whole phrases, for
    word order: Turkish puts the part first and inflects it)."""
    if part.startswith("button:"):
        return _("the link of button %(n)d {{%(name)s}}") % {"n": int(part.split(":")[1]) + 1, "name": name}
    if part == "header":
        return _("the header's {{%(name)s}}") % {"name": name}
    if part == "body":
        return _("the body's {{%(name)s}}") % {"name": name}
    return f"{part} {{{{{name}}}}}"
