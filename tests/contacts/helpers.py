from pathlib import Path

from django.core.files import File

from contacts.imports import file_transfer_create, file_transfer_run

DATA = Path(__file__).resolve().parents[1] / "data"


def import_data_file(kind: str, name: str, *, label: str | None = None, encoding: str = "auto", user=None):
    with open(DATA / name, "rb") as fh:
        transfer = file_transfer_create(
            name=label or name,
            kind=kind,
            upload=File(fh, name=name),
            encoding=encoding,
            uploaded_by=user,
            enqueue=False,
        )
    return file_transfer_run(transfer_id=transfer.pk)


def rejections(transfer) -> dict[int, str]:
    return dict(transfer.rejected_lines.values_list("line_no", "reason"))
