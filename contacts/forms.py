from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from contacts.imports import check_extension, check_size
from contacts.models import FileEncoding, FileTransfer


class FileTransferForm(forms.ModelForm):
    class Meta:
        model = FileTransfer
        fields = ["name", "kind", "file", "encoding"]
        help_texts = {
            "name": _("Shown in the File Transfers list; a User upload saves its contacts as a list of this name."),
            "file": _(
                ".txt or .csv. Formats: User upload 'token, externalId'; İYS uploads "
                "'recipient; platform; ONAY|RET; dd.MM.yyyy HH:mm:ss; externalId'; WhatsApp import with the "
                "header 'exid, email, msisdn, wpNumber, permission'."
            ),
        }

    encoding = forms.ChoiceField(choices=FileEncoding.choices, initial=FileEncoding.AUTO, label=_("Encoding"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_extension(upload.name)
            check_size(upload.size or 0)
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from exc
        return upload
