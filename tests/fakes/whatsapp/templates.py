"""The fake's message templates: the control calls (approve, reject, pause, disable, each posting
the signed template webhook), list with paging, create, delete, and the check of a template send."""

from __future__ import annotations

import base64
import re
from urllib.parse import urlencode

from tests.fakes.whatsapp.common import (
    PLACEHOLDER,
    _cursor,
    _error,
)


class TemplatesMixin:
    # --- control: templates --------------------------------------------------------------------
    def add_template(
        self,
        name: str,
        *,
        language: str = "tr",
        category: str = "MARKETING",
        body: str = "Merhaba {{1}}",
        components: list | None = None,
        status: str = "APPROVED",
        parameter_format: str = "POSITIONAL",
    ) -> str:
        template_id = str(1689556908129835 + next(self._ids))
        with self._lock:
            self.templates[template_id] = {
                "id": template_id,
                "name": name,
                "language": language,
                "category": category,
                "status": status,
                "parameter_format": parameter_format,
                "components": components if components is not None else [{"type": "BODY", "text": body}],
            }
        return template_id

    def approve(self, template_id: str) -> int | None:
        return self._template_event(template_id, "APPROVED")

    def reject(self, template_id: str, reason: str = "INVALID_FORMAT", recommendation: str = "") -> int | None:
        info = {"reason": reason.replace("_", " ").capitalize(), "recommendation": recommendation or "Fix the format"}
        return self._template_event(template_id, "REJECTED", reason=reason, rejection_info=info)

    def pause(self, template_id: str) -> int | None:
        info = {"title": "FIRST_PAUSE", "description": "Your template was paused because of low quality."}
        return self._template_event(template_id, "PAUSED", reason="NONE", other_info=info)

    def disable(self, template_id: str) -> int | None:
        return self._template_event(
            template_id, "DISABLED", reason="NONE", disable_info={"disable_date": "DATE_OF_DISABLE"}
        )

    def _template_event(self, template_id: str, event: str, **extra) -> int | None:
        with self._lock:
            template = self.templates[template_id]
            template["status"] = event
            if event == "REJECTED":
                template["rejected_reason"] = extra.get("reason", "NONE")
        value = {
            "event": event,
            "message_template_id": int(template_id),
            "message_template_name": template["name"],
            "message_template_language": template["language"],
            "message_template_category": template["category"],
            "reason": extra.pop("reason", None),
            **extra,
        }
        change = {"field": "message_template_status_update", "value": value}
        return self.post_webhook({"object": "whatsapp_business_account", "entry": [self._entry([change])]})

    def _list_templates(self, version: str, query: dict) -> dict:
        with self._lock:
            rows = sorted(self.templates.values(), key=lambda t: int(t["id"]))
        for name in ("status", "name", "category", "language"):
            if query.get(name):
                rows = [t for t in rows if t[name] == query[name]]
        limit = min(int(query.get("limit") or 25), self.page_size)
        start = int(base64.b64decode(query["after"]).decode()) if query.get("after") else 0
        page = rows[start : start + limit]
        end = start + len(page)
        paging: dict = {"cursors": {"before": _cursor(start), "after": _cursor(max(end, start))}}
        if end < len(rows):
            following = {**query, "after": _cursor(end)}
            paging["next"] = f"{self.url}/{version}/{self.waba_id}/message_templates?{urlencode(following)}"
        return {"data": page, "paging": paging}

    def _create_template(self, body: dict) -> tuple[int, dict]:
        name, language, category = body.get("name"), body.get("language"), body.get("category")
        components = body.get("components")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,512}", name):
            return 400, _error(100, "Invalid parameter", "name must be lowercase letters, digits and _")
        if not language or category not in ("MARKETING", "UTILITY", "AUTHENTICATION"):
            return 400, _error(100, "Invalid parameter", "language and a valid category are required")
        if not isinstance(components, list) or [c.get("type") for c in components].count("BODY") != 1:
            return 400, _error(100, "Invalid parameter", "a template needs exactly one BODY component")
        if refusal := self._media_header_refusal(components):
            return refusal
        with self._lock:
            if any(t["name"] == name and t["language"] == language for t in self.templates.values()):
                return 400, _error(
                    100, "Invalid parameter", f"Content in this language already exists for {name}", subcode=2388024
                )
        template_id = self.add_template(
            name,
            language=language,
            category=category,
            components=components,
            status="PENDING",
            parameter_format=body.get("parameter_format") or "POSITIONAL",
        )
        return 200, {"id": template_id, "status": "PENDING", "category": category}

    def _delete_template(self, query: dict) -> tuple[int, dict]:
        with self._lock:
            doomed = [
                tid
                for tid, t in self.templates.items()
                if t["name"] == query.get("name") and (not query.get("hsm_id") or tid == query["hsm_id"])
            ]
            for tid in doomed:
                del self.templates[tid]
        if not doomed:
            return 400, _error(100, "Invalid parameter", "Message template not found", subcode=2593002)
        return 200, {"success": True}

    def _check_template(self, sent: dict) -> tuple[int, dict] | None:
        name, language = sent.get("name"), (sent.get("language") or {}).get("code")
        with self._lock:
            found = next((t for t in self.templates.values() if t["name"] == name and t["language"] == language), None)
        if found is None or found["status"] not in ("APPROVED", "PAUSED", "DISABLED"):
            return 404, _error(
                132001,
                "Template name does not exist in the translation",
                f"template name ({name}) does not exist in {language}",
            )
        if found["status"] == "PAUSED":
            return 400, _error(132015, "Template is Paused", f"template {name} is paused")
        if found["status"] == "DISABLED":
            return 400, _error(132016, "Template is Disabled", f"template {name} is disabled")
        expected = _expected_parameters(found["components"])
        given: dict[str, list] = {}
        for component in sent.get("components") or []:
            kind = str(component.get("type", "")).lower()
            where = f"button:{component.get('sub_type')}:{component.get('index')}" if kind == "button" else kind
            given.setdefault(where, []).extend(component.get("parameters") or [])
        for where in sorted(set(expected) | {w for w in given if not w.startswith("button:quick_reply")}):
            want, got = expected.get(where, []), given.get(where, [])
            if len(want) != len(got):
                return 400, _error(
                    132000,
                    "Number of parameters does not match the expected number of params",
                    f"{where.split(':')[0]}: number of localizable_params ({len(got)}) does not match the "
                    f"expected number of params ({len(want)})",
                )
            if found["parameter_format"] == "NAMED" and where in ("header", "body"):
                names = [str(p.get("parameter_name", "")) for p in got]
                if sorted(names) != sorted(want):
                    return 400, _error(132000, "Parameter name mismatch", f"{where}: expected names {want}")
        return None


def _expected_parameters(components: list) -> dict[str, list[str]]:
    """Placeholders the send must fill, per component, counted the fake's own way."""
    expected: dict[str, list[str]] = {}
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER":
            fmt = str(component.get("format", "TEXT")).upper()
            if fmt == "TEXT":
                names = PLACEHOLDER.findall(str(component.get("text", "")))
                if names:
                    expected["header"] = names
            elif fmt in ("IMAGE", "VIDEO", "DOCUMENT"):
                expected["header"] = [fmt.lower()]
        elif kind == "BODY":
            names = PLACEHOLDER.findall(str(component.get("text", "")))
            if names:
                expected["body"] = names
        elif kind == "BUTTONS":
            for index, button in enumerate(component.get("buttons") or []):
                if button.get("type") == "URL" and PLACEHOLDER.search(str(button.get("url", ""))):
                    expected[f"button:url:{index}"] = ["url"]
    return expected
