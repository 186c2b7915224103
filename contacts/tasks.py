from celery import shared_task
from django.conf import settings
from django.utils import translation


@shared_task(name="contacts.tasks.process_file_transfer", acks_late=True)
def process_file_transfer(transfer_id: int) -> str:
    from contacts.imports import file_transfer_run

    # no request here: the stored bad-line reasons are in the panel's default language (contacts.parsers)
    with translation.override(settings.LANGUAGE_CODE):
        return file_transfer_run(transfer_id=transfer_id).status


@shared_task(name="contacts.tasks.resume_stalled_transfers")
def resume_stalled_transfers() -> int:
    from contacts.imports import file_transfers_resume_stalled

    return len(file_transfers_resume_stalled())
