"""The template editor's values ↔ Meta's create-template `components` (providers.md §6.4) and our
variable bindings. Pure functions on plain dicts, so the form, a sync from Meta and tests share
them. The editor's field names are the keys: see channels_whatsapp.editor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from channels_whatsapp.template_checks import numbers

MEDIA = ("image", "video", "document")
BODY_VARIABLES = 10  # fixed rows body_1 … body_10 (Meta allows more; ten is plenty for a campaign)
CTA_SLOTS = ("button_1", "button_2")  # up to two call-to-action buttons, then the stop quick reply


def header_slot_used(values: Mapping) -> bool:
    return values.get("header_type") == "text" and bool(numbers(values.get("header_text") or ""))


def url_slot_used(values: Mapping, slot: str) -> bool:
    return values.get(f"{slot}_type") == "url" and bool(numbers(values.get(f"{slot}_url") or ""))


def body_count(values: Mapping) -> int:
    return len(set(numbers(values.get("body") or "")))


def build_components(values: Mapping, *, header_handle: str = "") -> list[dict]:
    """Meta's `components` for W3 from the editor's cleaned values. A media header's example is
    `header_handle`: Meta needs the handle of the sample uploaded through the Resumable Upload
    API; without one the sample link stands in, as Meta lists it back for approved templates (a
    draft keeps it; services.template_submit uploads the sample and submits the handle instead)."""
    components: list[dict] = []
    header_type = values.get("header_type") or ""
    if header_type == "text":
        header: dict = {"type": "HEADER", "format": "TEXT", "text": values["header_text"]}
        if header_slot_used(values):
            header["example"] = {"header_text": [values["header_example"]]}
        components.append(header)
    elif header_type in MEDIA:
        sample = header_handle or values["header_media_url"]
        components.append({"type": "HEADER", "format": header_type.upper(), "example": {"header_handle": [sample]}})
    body: dict = {"type": "BODY", "text": values["body"]}
    if count := body_count(values):
        body["example"] = {"body_text": [[values[f"body_{n}_example"] for n in range(1, count + 1)]]}
    components.append(body)
    if values.get("footer"):
        components.append({"type": "FOOTER", "text": values["footer"]})
    buttons: list[dict] = []
    for slot in CTA_SLOTS:
        kind = values.get(f"{slot}_type") or ""
        if kind == "url":
            button = {"type": "URL", "text": values[f"{slot}_text"], "url": values[f"{slot}_url"]}
            if url_slot_used(values, slot):
                button["example"] = [values[f"{slot}_example"]]
            buttons.append(button)
        elif kind == "phone":
            buttons.append(
                {"type": "PHONE_NUMBER", "text": values[f"{slot}_text"], "phone_number": values[f"{slot}_phone"]}
            )
    if values.get("stop_button"):
        buttons.append({"type": "QUICK_REPLY", "text": values["stop_button_text"]})
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    return components


def _binding(values: Mapping, slot: str) -> dict:
    return {"source": values.get(f"{slot}_source") or "", "default": values.get(f"{slot}_default") or ""}


def build_bindings(values: Mapping) -> dict:
    """Where each parameter of a send comes from; keys as providers.whatsapp.templates.parameter_counts."""
    bindings: dict = {}
    header_type = values.get("header_type") or ""
    if header_slot_used(values):
        bindings["header"] = {"1": _binding(values, "header")}
    elif header_type in MEDIA:
        bindings["header"] = {"1": {"source": "", "default": values["header_media_url"]}}
    if count := body_count(values):
        bindings["body"] = {str(n): _binding(values, f"body_{n}") for n in range(1, count + 1)}
    index = 0
    for slot in CTA_SLOTS:
        if values.get(f"{slot}_type") in ("url", "phone"):
            if url_slot_used(values, slot):
                bindings[f"button:{index}"] = {"1": _binding(values, slot)}
            index += 1
    return bindings


def _set_binding(initial: dict, slot: str, binding) -> None:
    if isinstance(binding, Mapping):
        initial[f"{slot}_source"] = str(binding.get("source") or "")
        initial[f"{slot}_default"] = str(binding.get("default") or "")


def _first(value):
    """The first item of a list (Meta's examples are lists, body_text a list of lists)."""
    while isinstance(value, list):
        value = value[0] if value else ""
    return "" if value is None else str(value)


def initial_from_components(components: Sequence[Mapping], bindings: Mapping | None) -> dict:
    """The editor's initial values for a template Meta holds (or we built). What the editor cannot
    show (location or product headers, copy-code or flow buttons, a third call-to-action, named
    variables) is left out."""
    bindings = bindings if isinstance(bindings, Mapping) else {}
    initial: dict = {"header_type": "", "stop_button": False}
    for slot in CTA_SLOTS:
        initial[f"{slot}_type"] = ""
    for component in components:
        kind = str(component.get("type", "")).upper()
        example = component.get("example") if isinstance(component.get("example"), Mapping) else {}
        if kind == "HEADER":
            header_format = str(component.get("format", "TEXT")).upper()
            if header_format == "TEXT":
                initial.update(header_type="text", header_text=str(component.get("text", "")))
                if numbers(initial["header_text"]):
                    initial["header_example"] = _first(example.get("header_text"))
                    _set_binding(initial, "header", (bindings.get("header") or {}).get("1"))
            elif header_format.lower() in MEDIA:
                link = ((bindings.get("header") or {}).get("1") or {}).get("default") or ""
                handle = _first(example.get("header_handle"))
                initial.update(header_type=header_format.lower(), header_media_url=link or handle)
        elif kind == "BODY":
            initial["body"] = str(component.get("text", ""))
            rows = example.get("body_text")
            given = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], list) else []
            body_bindings = bindings.get("body") or {}
            for n in range(1, len(set(numbers(initial["body"]))) + 1):
                initial[f"body_{n}_example"] = str(given[n - 1]) if n <= len(given) else ""
                _set_binding(initial, f"body_{n}", body_bindings.get(str(n)))
        elif kind == "FOOTER":
            initial["footer"] = str(component.get("text", ""))
        elif kind == "BUTTONS":
            _initial_buttons(initial, component.get("buttons") or [], bindings)
    return initial


def _initial_buttons(initial: dict, buttons: Sequence, bindings: Mapping) -> None:
    slots = iter(CTA_SLOTS)
    for index, button in enumerate(buttons):
        if not isinstance(button, Mapping):
            continue
        kind = str(button.get("type", "")).upper()
        if kind == "QUICK_REPLY" and not initial["stop_button"]:
            initial.update(stop_button=True, stop_button_text=str(button.get("text", "")))
        elif kind in ("URL", "PHONE_NUMBER"):
            slot = next(slots, None)
            if slot is None:
                continue
            initial[f"{slot}_text"] = str(button.get("text", ""))
            if kind == "PHONE_NUMBER":
                initial.update({f"{slot}_type": "phone", f"{slot}_phone": str(button.get("phone_number", ""))})
                continue
            initial.update({f"{slot}_type": "url", f"{slot}_url": str(button.get("url", ""))})
            if numbers(initial[f"{slot}_url"]):
                initial[f"{slot}_example"] = _first(button.get("example"))
                _set_binding(initial, slot, (bindings.get(f"button:{index}") or {}).get("1"))
