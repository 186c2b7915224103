"""The journey's form (entry and re-entry) and the step form: one form for every kind of step,
whose fields static/journeys/step_form.js shows by kind; what it returns is one step of the
definition (journeys.graph), so nobody writes JSON."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from journeys.graph import BRANCHES, SENDS, STEP_ID, STEP_TYPES, TIME_OF_DAY
from journeys.models import Journey
from journeys.selectors import branch_label, step_type_label
from messaging.admin_segments import SegmentBuilder
from messaging.models import Template
from messaging.segments import definition_problems as condition_problems
from providers.base import Channel
from providers.models import ProviderAccount

# which kinds of step show each field (static/journeys/journey.js); no entry: every kind
FIELD_KINDS = {
    "account": "send_sms",
    "kind": "send_sms",
    "text": "send_sms",
    "sms_template": "send_sms",
    "sender": "send_sms",
    "whatsapp_template": "send_whatsapp",
    "wait_mode": "wait",
    "amount": "wait wait_delivery",
    "unit": "wait wait_delivery",
    "until": "wait",
    "of": "wait_delivery",
    "conditions": "condition",
    "message_of": "condition",
    "message_state": "condition",
}
UNITS = [("60", _("minutes")), ("3600", _("hours")), ("86400", _("days"))]


class JourneyForm(forms.ModelForm):
    class Meta:
        model = Journey
        fields = [
            "name",
            "description",
            "entry",
            "entry_list",
            "entry_event",
            "entry_consent_type",
            "entry_consent_status",
            "entry_segment",
            "re_entry",
        ]
        widgets = {"entry": forms.RadioSelect, "re_entry": forms.RadioSelect}
        help_texts = {
            "entry_event": _("The name the brand's systems send to POST /api/v1/events/, e.g. cart_abandoned."),
            "entry_consent_status": _("E.g. MESAJ and ONAY: a contact enters when a new consent is recorded."),
            "entry_segment": _("Everyone in the audience when the journey is activated enters once."),
        }

    def clean(self):
        cleaned = super().clean()
        entry = cleaned.get("entry")
        needed = {
            "list": ["entry_list"],
            "event": ["entry_event"],
            "consent": ["entry_consent_type", "entry_consent_status"],
            "audience": ["entry_segment"],
        }.get(entry, [])
        for name in needed:
            if not cleaned.get(name):
                self.add_error(name, _("Needed for this entry."))
        return cleaned


def _duration(amount: int, unit: str) -> int:
    return int(amount) * int(unit)


def _split(seconds) -> tuple[int | None, str]:
    if not seconds:
        return None, "3600"
    for unit in ("86400", "3600", "60"):
        if seconds % int(unit) == 0:
            return seconds // int(unit), unit
    return seconds // 60 or 1, "60"


class StepForm(forms.Form):
    type = forms.ChoiceField(label=_("Kind of step"), choices=[(t, t) for t in STEP_TYPES])
    step_id = forms.CharField(
        label=_("Step name"), max_length=40, help_text=_("Shown on the diagram; letters, digits, '-' or '_'.")
    )
    # sends
    account = forms.ModelChoiceField(
        label=_("Account"), queryset=ProviderAccount.objects.none(), required=False,
        help_text=_("Empty: the only active account of the channel."),
    )  # fmt: skip
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("newsletter", _("Newsletter")), ("transactional", _("Transactional"))],
        required=False, initial="newsletter",
    )  # fmt: skip
    text = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
        help_text=_("Variables such as {{name|Müşterimiz}} are filled from the contact."),
    )  # fmt: skip
    sms_template = forms.ModelChoiceField(
        label=_("or an SMS template"), queryset=Template.objects.none(), required=False, to_field_name="name"
    )
    sender = forms.CharField(label=_("Sender name"), max_length=15, required=False)
    whatsapp_template = forms.ModelChoiceField(
        label=_("WhatsApp template"), queryset=Template.objects.none(), required=False,
        help_text=_("Approved templates only; their variables are bound to contact fields on the template."),
    )  # fmt: skip
    # waits
    wait_mode = forms.ChoiceField(
        label=_("Wait"), choices=[("duration", _("for a time")), ("until", _("until a time of day"))],
        widget=forms.RadioSelect, required=False, initial="duration",
    )  # fmt: skip
    amount = forms.IntegerField(label=_("How long"), min_value=1, required=False)
    unit = forms.ChoiceField(label=_("Unit"), choices=UNITS, required=False, initial="3600")
    until = forms.CharField(label=_("Time of day (Istanbul)"), required=False, help_text=_("HH:MM, e.g. 09:30"))
    of = forms.ChoiceField(label=_("The message of step"), required=False)
    # conditions
    conditions = forms.CharField(label=_("Conditions"), widget=SegmentBuilder, required=False)
    message_of = forms.ChoiceField(
        label=_("and the message of step"), required=False,
        help_text=_("“This SMS”: whether the message an earlier step sent was delivered (optional)."),
    )  # fmt: skip
    message_state = forms.ChoiceField(
        label=_("was"), required=False,
        choices=[("delivered", _("delivered")), ("not_delivered", _("not delivered"))],
    )  # fmt: skip

    def __init__(self, *args, definition: dict, step_id: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.definition = definition or {"start": "", "steps": {}}
        self.editing = step_id
        self.fields["type"].choices = [(t, step_type_label(t)) for t in STEP_TYPES]
        self.fields["account"].queryset = ProviderAccount.objects.filter(
            channel__in=[Channel.SMS, Channel.WHATSAPP], is_active=True
        ).order_by("channel", "name")
        self.fields["sms_template"].queryset = Template.objects.filter(channel=Channel.SMS).order_by("name")
        self.fields["whatsapp_template"].queryset = (
            Template.objects.filter(channel=Channel.WHATSAPP, status="APPROVED")
            .select_related("account")
            .order_by("name", "language")
        )
        self.fields["whatsapp_template"].label_from_instance = lambda t: f"{t.name} ({t.language}) · {t.account}"
        sends = [sid for sid, s in self.definition.get("steps", {}).items() if s.get("type") in SENDS]
        self.fields["of"].choices = [(sid, sid) for sid in sends if sid != step_id]
        self.fields["message_of"].choices = [("", "—"), *self.fields["of"].choices]
        if step_id:  # a step keeps its name and kind (delete it and add another to change its kind)
            self.fields["step_id"].disabled = True
            self.fields["type"].disabled = True
        self.branch_names = []
        if step_id:
            from journeys.editing import targets_for

            step = self.definition["steps"][step_id]
            options = [("", _("(the journey ends)"))] + [(t, t) for t in targets_for(self.definition, step_id)]
            for name in BRANCHES.get(step.get("type"), ()):
                self.fields[f"branch_{name}"] = forms.ChoiceField(
                    label=_("Branch “%(branch)s” goes to") % {"branch": branch_label(name)},
                    choices=options,
                    required=False,
                )
                self.branch_names.append(name)
            # disabled fields take their value from the initial data, bound or not
            self.initial.update({"type": step.get("type"), "step_id": step_id})
            if not self.is_bound:
                self.initial.update(self._initial(step))

    def rows(self):
        """(bound field, the kinds of step it belongs to) for the template."""
        for name in self.fields:
            if self.editing and name == "type":
                continue
            yield self[name], FIELD_KINDS.get(name, "")

    def _initial(self, step: dict) -> dict:
        initial = {"type": step.get("type"), "step_id": self.editing, "kind": step.get("kind") or "newsletter"}
        initial.update(text=step.get("text", ""), sender=step.get("sender", ""), until=step.get("until", ""))
        if step.get("account"):
            initial["account"] = ProviderAccount.objects.filter(name=step["account"]).first()
        if step.get("type") == "send_sms" and step.get("template"):
            initial["sms_template"] = step["template"]
        if step.get("type") == "send_whatsapp":
            initial["whatsapp_template"] = Template.objects.filter(
                channel=Channel.WHATSAPP, name=step.get("template"), language=step.get("language", "")
            ).first()
        if step.get("type") in ("wait", "wait_delivery"):
            initial["amount"], initial["unit"] = _split(step.get("seconds"))
            initial["wait_mode"] = "until" if step.get("until") else "duration"
        initial["of"] = step.get("of", "")
        initial["conditions"] = json.dumps(step.get("conditions") or {"match": "all", "conditions": []})
        initial["message_of"] = (step.get("message") or {}).get("of", "")
        initial["message_state"] = (step.get("message") or {}).get("state", "delivered")
        for name in BRANCHES.get(step.get("type"), ()):
            initial[f"branch_{name}"] = step.get(name) or ""
        return initial

    def clean_step_id(self):
        value = self.cleaned_data["step_id"]
        if self.editing:
            return self.editing
        if not STEP_ID.fullmatch(value):
            raise forms.ValidationError(_("Use 1-40 letters, digits, '-' or '_'."))
        if value in self.definition.get("steps", {}):
            raise forms.ValidationError(_("The journey has a step with this name."))
        return value

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("type")
        step: dict = {"type": kind}
        if kind in SENDS:
            if cleaned.get("account"):
                step["account"] = cleaned["account"].name
        if kind == "send_sms":
            template = cleaned.get("sms_template")
            text = (cleaned.get("text") or "").strip()
            if template and text:
                self.add_error("text", _("Write a text or choose a template, not both."))
            elif not template and not text:
                self.add_error("text", _("Write the text or choose an SMS template."))
            step.update(kind=cleaned.get("kind") or "newsletter")
            if template:
                step["template"] = template.name
            else:
                step["text"] = text
            if cleaned.get("sender"):
                step["sender"] = cleaned["sender"]
        elif kind == "send_whatsapp":
            template = cleaned.get("whatsapp_template")
            if template is None:
                self.add_error("whatsapp_template", _("Choose an approved WhatsApp template."))
            else:
                step.update(template=template.name, language=template.language, account=template.account.name)
        elif kind == "wait":
            if cleaned.get("wait_mode") == "until":
                until = (cleaned.get("until") or "").strip()
                if not TIME_OF_DAY.fullmatch(until):
                    self.add_error("until", _("Give the time of day as HH:MM, e.g. 09:30."))
                step["until"] = until
            else:
                self._duration_into(step, cleaned)
        elif kind == "wait_delivery":
            if not cleaned.get("of"):
                self.add_error("of", _("Choose the send step whose delivery it waits for."))
            step["of"] = cleaned.get("of") or ""
            self._duration_into(step, cleaned)
        elif kind == "condition":
            try:
                conditions = json.loads(cleaned.get("conditions") or "{}")
            except ValueError:
                conditions = {}
            has_conditions = isinstance(conditions, dict) and bool(conditions.get("conditions"))
            message_of = cleaned.get("message_of")
            if not has_conditions and not message_of:
                self.add_error("conditions", _("Add at least one condition."))
            elif has_conditions and (problems := condition_problems(conditions)):
                self.add_error("conditions", problems)
            if has_conditions:
                step["conditions"] = conditions
            if message_of:
                step["message"] = {"of": message_of, "state": cleaned.get("message_state") or "delivered"}
        for name in self.branch_names:
            if name in BRANCHES.get(kind, ()):
                step[name] = cleaned.get(f"branch_{name}") or ""
        self.step = step
        return cleaned

    def _duration_into(self, step: dict, cleaned: dict) -> None:
        amount = cleaned.get("amount")
        if not amount:
            self.add_error("amount", _("Say how long."))
            return
        step["seconds"] = _duration(amount, cleaned.get("unit") or "3600")
