"""The editor's live counter (SMS templates and campaigns): the text a contact will receive, for
a sample contact, counted the way the dispatcher counts it (providers.md §7), with the characters
that force UCS-2 named."""

from __future__ import annotations

import logging
import unicodedata

from django.http import JsonResponse
from django.utils.translation import gettext as _

from channels_sms.encoding import PROFILES, UCS2, count_segments, encoding_label, profile_for, ucs2_characters
from contacts.models import Contact
from messaging.rendering import CONTACT_FIELDS, contact_values, render, variables
from providers.models import ProviderAccount

logger = logging.getLogger(__name__)

# What a marketer may type in place of a character that forces UCS-2.
PLAIN = {"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "•": "-"}


def sample_contact(names: list[str]) -> Contact | None:
    """A contact that has every attribute the text uses, else the most recently updated one."""
    attributes = [n for n in names if n not in CONTACT_FIELDS]
    contacts = Contact.objects.order_by("-updated_at")
    if attributes:
        return contacts.filter(attributes__has_keys=attributes).first() or contacts.first()
    return contacts.first()


def character_label(char: str) -> str:
    name = unicodedata.name(char, "").title() or f"U+{ord(char):04X}"
    label = f"“{char}” ({name})"
    if char in PLAIN:
        label += " → " + _("type %(plain)s instead") % {"plain": PLAIN[char]}
    return label


def counter_answer(text: str, *, profile: str) -> dict:
    names = variables(text)
    contact = sample_contact(names) if names else None
    rendered, missing = (text, [])
    if contact is not None:
        rendered, missing = render(
            text,
            contact_values(**{f: getattr(contact, f) for f in (*CONTACT_FIELDS, "attributes")}),
        )
    counted = count_segments(rendered, profile=profile)
    answer = counted.as_dict()
    answer["summary"] = _(
        "%(encoding)s · %(characters)d characters · %(segments)d segment(s) · %(left)d left in the last one"
    ) % {
        "encoding": encoding_label(counted.encoding),
        "characters": counted.characters,
        "segments": counted.segments,
        "left": counted.remaining,
    }
    if contact is not None:
        answer["sample"] = _("As %(contact)s will get it: %(text)s") % {"contact": contact, "text": rendered}
        if missing:
            answer["sample"] += " " + _("(no value for: %(names)s)") % {"names": ", ".join(missing)}
    elif names:
        answer["sample"] = _("Counted with the variables as written: no contact to fill them in yet.")
    if counted.encoding == UCS2:
        forcing = ucs2_characters(rendered, profile=profile)
        answer["ucs2"] = [character_label(c) for c in forcing]
        answer["ucs2_note"] = _("UCS-2 (70 characters a segment) because of: %(chars)s") % {
            "chars": ", ".join(answer["ucs2"])
        }
    return answer


def counter_json(request):
    """GET text, and profile or account (the account's provider decides how it counts)."""
    profile = request.GET.get("profile", "")
    account_id = request.GET.get("account", "")
    if profile not in PROFILES:
        profile = "nli"
        if account_id.isdigit() and (account := ProviderAccount.objects.filter(pk=account_id).first()):
            try:
                profile = profile_for(account.connector_instance())
            except Exception:  # an account that cannot be read: the default profile, and the log says why
                logger.exception("counter: account %s cannot be read; counting with the default profile", account.pk)
    return JsonResponse(counter_answer(request.GET.get("text", ""), profile=profile))
