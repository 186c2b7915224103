"""Who wrote a contact from outside the panel (product.md: every API call is attributed to its
key in the history): one row for each contact the API created or changed, with the fields it set
and the key's label. The panel's own edits and imports are in Django's admin log; the contact's
timeline shows both (contacts.timeline)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ContactWrite(models.Model):
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(_("when"))
    created = models.BooleanField(_("created"), default=False)
    fields = models.JSONField(_("fields"), default=list)  # the fields it set, in the contact's order
    origin_ref = models.CharField(_("by"), max_length=255)

    class Meta:
        verbose_name = _("contact write")
        verbose_name_plural = _("contact writes")
        indexes = [models.Index(fields=["contact", "-at"], name="contact_write_newest")]

    def __str__(self) -> str:
        return f"{self.contact_id} by {self.origin_ref}"
