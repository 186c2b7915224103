"""Meta's Resumable Upload API (developers.facebook.com/docs/graph-api/guides/upload), for the sample
of a template's media header: Meta creates such a template only with the handle of a file uploaded
to the Meta app in `example.header_handle` (Meta's "Template media" page), never with a link.

1. POST /{v}/{app-id}/uploads?file_name=…&file_length=…&file_type=… (our Bearer token)
   → {"id": "upload:…?sig=…"}: the session id, used verbatim (its `?sig=` is part of it);
2. POST /{v}/{session id} with `Authorization: OAuth <token>`, `file_offset: 0` and the raw bytes
   → {"h": "4::…"}: the handle;
3. after a cut, GET /{v}/{session id} → {"id", "file_offset"}: the bytes Meta kept; step 2 again
   from there sends the rest.

Also here: what Meta takes as a sample of each header kind (type, size) and the type of some bytes
by their signature, so the panel checks a sample before anything is sent."""

from __future__ import annotations

import logging
import re

from django.utils.translation import gettext as _

from providers.whatsapp.client import GraphClient, GraphError, GraphUnreachable
from providers.whatsapp.errors import OBJECT_MISSING_SUBCODE, Kind, WhatsAppSendError, describe, meta_error

logger = logging.getLogger(__name__)

MB = 1024 * 1024
# the upload takes application/pdf, image/jpeg, image/jpg, image/png and video/mp4 (the guide's list);
# the media limits are WhatsApp's: images 5 MB, videos 16 MB, documents 100 MB
SAMPLE_TYPES: dict[str, tuple[str, ...]] = {
    "image": ("image/jpeg", "image/png"),
    "video": ("video/mp4",),
    "document": ("application/pdf",),
}
SAMPLE_MAX_BYTES: dict[str, int] = {"image": 5 * MB, "video": 16 * MB, "document": 100 * MB}
UPLOAD_TYPES = frozenset({"image/jpg", *(t for types in SAMPLE_TYPES.values() for t in types)})
FILE_NAME_MAX = 200


def sample_type(data: bytes) -> str:
    """The MIME type `data` is, read from its first bytes; "" when it is none the upload takes
    (a GIF, a WebP, a QuickTime or 3GP video, an HTML error page …)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data[4:8] == b"ftyp" and not data[8:12].startswith((b"3g", b"qt")):
        return "video/mp4"
    return ""


def upload_sample(graph: GraphClient, *, app_id: str, data: bytes, file_type: str, file_name: str) -> str:
    """Upload a template's sample to the Meta app `app_id` and return its handle. A connection cut
    while the bytes go is resumed once from what Meta kept. Refusals raise WhatsAppSendError in
    words; nothing is ever "maybe sent" here (no template exists yet)."""
    if not app_id:
        raise WhatsAppSendError(
            _("Meta needs the sample uploaded through the Meta app: add the Meta app id on the WhatsApp account."),
            permanent=True,
            account_problem=True,
        )
    if file_type not in UPLOAD_TYPES:
        raise WhatsAppSendError(
            _("Meta takes JPEG or PNG images, MP4 videos and PDF documents as samples, not %(type)s.")
            % {"type": file_type or _("this file")},
            permanent=True,
        )
    if not data:
        raise WhatsAppSendError(_("The sample is an empty file."), permanent=True)
    name = re.sub(r"[^\w.\-]+", "_", file_name)[-FILE_NAME_MAX:].strip("._") or "sample"
    try:
        session_id = session_start(graph, app_id=app_id, file_name=name, file_length=len(data), file_type=file_type)
        try:
            return _handle(session_send(graph, session_id=session_id, data=data, offset=0))
        except GraphUnreachable as exc:
            if not exc.maybe_sent:
                raise
            logger.info("WhatsApp sample upload cut (%s); resuming from what Meta kept", exc)
            offset = session_offset(graph, session_id=session_id)
            if 0 <= offset < len(data):
                return _handle(session_send(graph, session_id=session_id, data=data[offset:], offset=offset))
            # every byte arrived and only the answer with the handle was lost: a new session gives one
            session_id = session_start(graph, app_id=app_id, file_name=name, file_length=len(data), file_type=file_type)
            return _handle(session_send(graph, session_id=session_id, data=data, offset=0))
    except (GraphError, GraphUnreachable) as exc:
        raise _refusal(exc, app_id=app_id) from None


def session_start(graph: GraphClient, *, app_id: str, file_name: str, file_length: int, file_type: str) -> str:
    """Step 1: a new upload session for a file of `file_length` bytes; its id."""
    params = {"file_name": file_name, "file_length": file_length, "file_type": file_type}
    answer = graph.call("POST", f"{app_id}/uploads", params=params)
    session_id = answer.get("id")
    # the id becomes our URL's path: one that could point anywhere but an upload session is not used
    if not isinstance(session_id, str) or not session_id.startswith("upload:") or re.search(r"\s|#|\.\.", session_id):
        raise WhatsAppSendError(_("Meta answered the upload without an upload session id."), permanent=False)
    return session_id


def session_send(graph: GraphClient, *, session_id: str, data: bytes, offset: int) -> dict:
    """Step 2: `data`, the file's bytes from `offset` on; Meta's answer (`h` once the file is whole)."""
    headers = {"file_offset": str(offset), "Content-Type": "application/octet-stream"}
    return graph.call("POST", session_id, oauth=True, data=data, headers=headers)


def session_offset(graph: GraphClient, *, session_id: str) -> int:
    """How many bytes of the file Meta holds in the session (GET on it, to resume)."""
    answer = graph.call("GET", session_id, oauth=True)
    try:
        return int(answer["file_offset"])
    except (KeyError, TypeError, ValueError):
        raise WhatsAppSendError(_("Meta did not say how much of the sample it received."), permanent=False) from None


def _handle(answer: dict) -> str:
    handle = answer.get("h")
    if not isinstance(handle, str) or not handle:
        raise WhatsAppSendError(_("Meta took the sample but gave no handle for it; try again."), permanent=False)
    return handle


def _refusal(exc: GraphError | GraphUnreachable, *, app_id: str) -> WhatsAppSendError:
    doing = _("WhatsApp, uploading the template's sample: %(reason)s")
    if isinstance(exc, GraphUnreachable):
        return WhatsAppSendError(doing % {"reason": exc}, maybe_sent=False)
    reading = meta_error(exc.code, subcode=exc.subcode, transient=exc.transient)
    if exc.code == 100 and exc.subcode == OBJECT_MISSING_SUBCODE:
        words = _(
            "Meta does not know the app id %(app_id)s, or the access token's system user has no role on that "
            "app; copy the id from the Meta app's basic settings"
        ) % {"app_id": app_id}
    else:
        words = describe(exc.code, exc.message, exc.details, subcode=exc.subcode)
    logger.warning("WhatsApp sample upload refused: %s (trace %s)", words, exc.trace_id)
    return WhatsAppSendError(
        doing % {"reason": words},
        permanent=reading.kind in (Kind.ACCOUNT, Kind.MESSAGE, Kind.STOP_CAMPAIGN),
        retry_after=reading.retry_after,
        meta_code=exc.code,
        code=str(exc.code if exc.code is not None else exc.http_status),
        account_problem=reading.kind == Kind.ACCOUNT,
    )
