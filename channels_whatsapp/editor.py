"""The WhatsApp template editor (product.md "WhatsApp channel" → Templates): a plain form, used by
the template admin page and its live preview (templates/channels_whatsapp/template_editor_preview.html,
static/channels_whatsapp/template_editor.js). It checks what Meta would refuse (providers.md §6.4)
and builds Meta's create-template `components` and our variable bindings."""

from __future__ import annotations

import json
import re

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels_whatsapp import template_checks as checks
from channels_whatsapp.editor_components import (
    BODY_VARIABLES,
    CTA_SLOTS,
    MEDIA,
    build_bindings,
    build_components,
    initial_from_components,
    url_slot_used,
)
from channels_whatsapp.editor_fields import VariableFields, text_input
from providers.whatsapp.templates import (
    BODY_MAX,
    BUTTON_LABEL_MAX,
    FOOTER_MAX,
    HEADER_MAX,
    URL_MAX,
    template_problems,
)

NAME_MAX = 512
_TURKISH = str.maketrans("çğıöşüÇĞİÖŞÜ", "cgiosuCGIOSU")


def _line(slot: str) -> tuple[str, str, str]:
    return (f"{slot}_example", f"{slot}_source", f"{slot}_default")


class TemplateEditorForm(VariableFields):
    """A WhatsApp template: name, language, category, header (none, text, image, video, document),
    body, footer, up to two call-to-action buttons and the stop-promotions quick reply, and for
    each variable `{{n}}` an example (for Meta's review), a source and a default.

    After is_valid(): `components()` is Meta's create list (§6.4); `bindings()` says where each
    send parameter comes from, keyed as providers.whatsapp.templates.parameter_counts:

        {"header": {"1": {"source": "name", "default": "Müşterimiz"}},
         "body": {"1": {"source": "name", "default": "Müşterimiz"}, "2": {"source": "", "default": "1 Mayıs"}},
         "button:0": {"1": {"source": "external_id", "default": "kampanya"}}}

    `source` is a contact field (external_id, email, phone, whatsapp_number), a profile attribute
    name, or "" (everyone gets the default); `default` is sent when the contact has no value.
    "button:<i>" is the i-th button of the BUTTONS component (its URL's variable). A media header's
    "1" is the media link, its default the sample link. Quick replies take no binding: the sender
    gives the stop button providers.whatsapp.templates.STOP_PROMO_PAYLOAD."""

    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=NAME_MAX,
        help_text=gettext_lazy("Only lowercase letters, digits and _, e.g. summer_sale_2025. Recipients never see it."),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=checks.LANGUAGES,
        initial="tr",
        help_text=gettext_lazy("The language the message is written in."),
    )
    category = forms.ChoiceField(
        label=gettext_lazy("Category"),
        choices=[
            ("MARKETING", gettext_lazy("Marketing")),
            ("UTILITY", gettext_lazy("Utility")),
            ("AUTHENTICATION", gettext_lazy("Authentication")),
        ],
        initial="MARKETING",
        help_text=gettext_lazy(
            "Marketing: offers, news, invitations. It counts as a newsletter: only contacts who opted in to "
            "WhatsApp get it. Utility: about something the contact did or asked for (an order, an appointment): "
            "transactional. Authentication: one-time codes, transactional; WhatsApp writes their wording."
        ),
    )
    header_type = forms.ChoiceField(
        label=gettext_lazy("Header"),
        required=False,
        choices=[
            ("", gettext_lazy("None")),
            ("text", gettext_lazy("Text")),
            ("image", gettext_lazy("Image")),
            ("video", gettext_lazy("Video")),
            ("document", gettext_lazy("Document")),
        ],
    )
    header_text = forms.CharField(
        label=gettext_lazy("Header text"),
        required=False,
        widget=text_input(HEADER_MAX),
        help_text=gettext_lazy("Bold, above the message; one variable {{1}} at most."),
    )
    header_media_url = forms.URLField(
        label=gettext_lazy("Sample link"),
        required=False,
        max_length=URL_MAX,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "vURLField", "placeholder": "https://"}),
        help_text=gettext_lazy(
            "A public link to a sample image (JPEG, PNG), video (MP4) or PDF document. WhatsApp's reviewers "
            "look at it, and messages show it unless a campaign gives another."
        ),
    )
    body = forms.CharField(
        label=gettext_lazy("Message text"),
        widget=forms.Textarea(attrs={"rows": 6, "data-wa-limit": BODY_MAX, "class": "vLargeTextField"}),
        error_messages={"required": gettext_lazy("Write the message text.")},
        help_text=gettext_lazy(
            "Variables {{1}}, {{2}} … are filled in for each contact. *bold*, _italic_ and ~strikethrough~ "
            "work as in WhatsApp."
        ),
    )
    footer = forms.CharField(
        label=gettext_lazy("Footer"),
        required=False,
        widget=text_input(FOOTER_MAX),
        help_text=gettext_lazy("Small grey text under the message, without variables."),
    )
    stop_button = forms.BooleanField(
        label=gettext_lazy("Stop-promotions button"),
        required=False,
        help_text=gettext_lazy("A tap opts the contact out of WhatsApp promotions. Recommended for marketing."),
    )
    stop_button_text = forms.CharField(
        label=gettext_lazy("Stop button label"), required=False, widget=text_input(BUTTON_LABEL_MAX)
    )

    # admin-style fieldsets (the template admin page reuses them); a variable's three fields share a line
    fieldsets = [
        (None, {"fields": ["name", "language", "category"], "classes": ["wa-fieldset"]}),
        (
            gettext_lazy("Header"),
            {"fields": ["header_type", "header_text", _line("header"), "header_media_url"], "classes": ["wa-fieldset"]},
        ),
        (
            gettext_lazy("Message"),
            {
                "fields": ["body", *(_line(f"body_{n}") for n in range(1, BODY_VARIABLES + 1)), "footer"],
                "classes": ["wa-fieldset"],
                "description": gettext_lazy(
                    "For each variable: an example for WhatsApp's review, where its value comes from "
                    "(a contact field or profile attribute) and a default for contacts without one."
                ),
            },
        ),
        (
            gettext_lazy("Buttons"),
            {
                "fields": [
                    *(f for s in CTA_SLOTS for f in (f"{s}_type", f"{s}_text", f"{s}_url", _line(s), f"{s}_phone")),
                    "stop_button",
                    "stop_button_text",
                ],
                "classes": ["wa-fieldset"],
            },
        ),
    ]
    field_order = [
        f
        for _name, options in fieldsets
        for line in options["fields"]
        for f in ([line] if isinstance(line, str) else line)
    ]

    class Media:
        js = ["channels_whatsapp/template_editor.js"]
        css = {"all": ["channels_whatsapp/template_editor.css"]}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        language = self.initial.get("language") or self.fields["language"].initial
        self.fields["stop_button_text"].initial = checks.stop_label(language)
        self.fields["language"].widget.attrs["data-wa-stop-labels"] = json.dumps(checks.STOP_LABELS, ensure_ascii=False)

    @classmethod
    def initial_from(cls, components, bindings, **fields) -> dict:
        """Initial values to show or edit a template: its components and bindings, plus plain
        fields (name, language, category) given by keyword."""
        return {**initial_from_components(components or [], bindings), **fields}

    def components(self, *, header_handle: str = "") -> list[dict]:
        """Meta's `components` for submission. A media header needs `header_handle`, the handle of
        the sample uploaded through Meta's Resumable Upload API; without it the sample link stands in."""
        self._require_valid()
        return build_components(self.cleaned_data, header_handle=header_handle)

    def bindings(self) -> dict:
        self._require_valid()
        return build_bindings(self.cleaned_data)

    def _require_valid(self) -> None:
        if not self.is_valid():
            raise ValueError("the template has problems; see form.errors")

    # --- cleaning ------------------------------------------------------------------------------
    def clean_name(self):
        name = self.cleaned_data["name"]
        if not checks.NAME_CHARACTERS.match(name):
            suggestion = re.sub(r"[^a-z0-9]+", "_", name.translate(_TURKISH).lower()).strip("_") or "summer_sale"
            raise forms.ValidationError(
                _("Use only lowercase letters a–z, digits and _ (no spaces), for example “%(suggestion)s”.")
                % {"suggestion": suggestion[:NAME_MAX]}
            )
        return name

    def clean_body(self):
        return self.cleaned_data["body"].replace("\r\n", "\n")

    def clean(self):
        data = super().clean()
        if data.get("category") == "AUTHENTICATION":
            self.add_error(
                "category",
                _(
                    "WhatsApp writes authentication (one-time code) templates itself: create them in WhatsApp "
                    "Manager and they appear here after a sync. For other service messages choose Utility."
                ),
            )
        self._clean_header(data)
        self._clean_body(data)
        self._clean_buttons(data)
        self._clean_footer(data)
        if not self.errors:
            components = build_components(data)
            self._unexpected(template_problems(name=data["name"], category=data["category"], components=components))
        return data

    def _problems(self, field: str, problems) -> None:
        for problem in problems:
            if problem:
                self.add_error(field, problem)

    def _single_line(self, field: str, text: str) -> None:
        if "\n" in text or "\r" in text:
            self.add_error(field, _("Keep it on one line."))

    def _clean_variable(self, data, slot: str) -> None:
        if not data.get(f"{slot}_example"):
            self.add_error(f"{slot}_example", _("Give an example: WhatsApp's reviewers read the message with it."))
        if not data.get(f"{slot}_default"):
            self.add_error(f"{slot}_default", _("Give a default: it is sent to contacts who have no value."))
        self._problems(f"{slot}_source", checks.source_problems(data.get(f"{slot}_source") or ""))

    def _clean_header(self, data) -> None:
        kind = data.get("header_type") or ""
        if kind == "text":
            text = data.get("header_text") or ""
            if not text:
                self.add_error("header_text", _("Write the header text, or choose no header."))
                return
            self._single_line("header_text", text)
            numbering = checks.numbering_problems(text, most=1)
            self._problems("header_text", [checks.too_long(text, HEADER_MAX), *numbering])
            if not numbering and checks.numbers(text):
                self._clean_variable(data, "header")
        elif kind in MEDIA:
            link = data.get("header_media_url") or ""
            if not link:
                if "header_media_url" not in self.errors:
                    self.add_error(
                        "header_media_url", _("Give a public link to a sample: WhatsApp's reviewers look at it.")
                    )
                return
            self._problems("header_media_url", checks.media_problems(link, kind))

    def _clean_body(self, data) -> None:
        body = data.get("body") or ""
        if not body:
            return
        numbering = checks.numbering_problems(body, most=BODY_VARIABLES)
        placement = checks.placement_problems(body, edges=True)
        self._problems("body", [checks.too_long(body, BODY_MAX), *numbering, *placement])
        if not numbering:  # each variable needs its example and default
            for n in sorted(set(checks.numbers(body))):
                self._clean_variable(data, f"body_{n}")

    def _clean_footer(self, data) -> None:
        footer = data.get("footer") or ""
        self._single_line("footer", footer)
        self._problems("footer", [checks.too_long(footer, FOOTER_MAX)])
        if "{{" in footer or "}}" in footer:
            self.add_error("footer", _("The footer may not hold variables."))

    def _clean_buttons(self, data) -> None:
        for slot in CTA_SLOTS:
            kind = data.get(f"{slot}_type") or ""
            if not kind:
                continue
            label = data.get(f"{slot}_text") or ""
            if not label:
                self.add_error(f"{slot}_text", _("Give the button a label."))
            self._problems(f"{slot}_text", [checks.too_long(label, BUTTON_LABEL_MAX)])
            if kind == "url":
                url = data.get(f"{slot}_url") or ""
                if not url:
                    self.add_error(f"{slot}_url", _("Give the web address the button opens."))
                    continue
                self._problems(f"{slot}_url", checks.url_problems(url, most=URL_MAX))
                if url_slot_used(data, slot) and f"{slot}_url" not in self.errors:
                    self._clean_variable(data, slot)
            else:
                phone = re.sub(r"[\s().-]", "", data.get(f"{slot}_phone") or "")
                data[f"{slot}_phone"] = phone
                self._problems(
                    f"{slot}_phone", checks.phone_problems(phone) if phone else [_("Give the phone number to call.")]
                )
        if [data.get(f"{s}_type") for s in CTA_SLOTS] == ["phone", "phone"]:
            self.add_error(f"{CTA_SLOTS[-1]}_type", _("A template may have only one call button."))
        ctas = [(data.get(f"{s}_text") or "").casefold() for s in CTA_SLOTS if data.get(f"{s}_type")]
        if len(ctas) == 2 and ctas[0] and ctas[0] == ctas[1]:
            self.add_error(f"{CTA_SLOTS[-1]}_text", _("Each button needs its own label."))
        if data.get("stop_button"):
            label = data.get("stop_button_text") or checks.stop_label(data.get("language") or "")
            data["stop_button_text"] = label
            self._problems("stop_button_text", [checks.too_long(label, BUTTON_LABEL_MAX)])
            if label.casefold() in ctas:
                self.add_error("stop_button_text", _("Each button needs its own label."))

    def _unexpected(self, problems: list[str]) -> None:
        """Meta's limits as providers/ checks them, should one slip past the checks above: each on
        the field its words name (English: these come from the wire layer)."""
        fields = [("name", "name"), ("category", "category"), ("header", "header_text"), ("body", "body"),
                  ("footer", "footer"), ("button", f"{CTA_SLOTS[0]}_type")]  # fmt: skip
        for problem in problems:
            field = next((f for word, f in fields if word in problem), None)
            self.add_error(field, problem[:1].upper() + problem[1:] + ".")
