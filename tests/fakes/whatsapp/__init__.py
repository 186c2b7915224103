"""A fake Meta WhatsApp Cloud API (Graph) over real HTTP on 127.0.0.1 (providers.md §6.9).

- `Bearer` token check: a wrong token is 401 with code 190; a token in `limited_tokens` is valid
  but has no permission (code 10).
- GET /{v}/{phone-number-id}, GET /{v}/{waba}/phone_numbers; an unknown id is code 100/33.
- Templates: GET /{v}/{waba}/message_templates with cursor paging (`page_size` a page, `next`
  links), POST (→ PENDING), DELETE by name (and hsm_id), GET /{v}/{template-id}. Control methods
  `approve`, `reject`, `pause`, `disable` change a template and post the signed
  message_template_status_update webhook to `callback_url`.
- POST /{v}/{phone-number-id}/messages checks a template send against the stored template
  (132001 unknown name/language or not approved, 132015 paused, 132016 disabled, 132000 wrong
  parameter count per component) and a free text against the 24-hour window (outside it: accepted,
  then a `failed` 131047 status, as Meta does). Magic recipients by their last four digits (MAGIC).
- Status webhooks (sent, delivered, read; failed with errors) are signed with the app secret and
  posted in batches (several entries and changes a POST), optionally shuffled (`shuffle`) and
  repeated (`repeat`); a callback that does not answer 2xx is retried, as Meta does.
- `inbound_text` / `inbound_button` post a signed inbound message and open the window.
- Resumable Upload API (template samples): POST /{v}/{app_id}/uploads (Bearer or access_token) →
  an `upload:…?sig=…` session; POST on it (`Authorization: OAuth`, `file_offset` header, raw bytes)
  → the handle `4::…` once whole; GET on it → {"id", "file_offset"}. `cut_upload_after` drops the
  connection mid-upload. A template's media header must carry a handle this fake issued (else 100).
  `SampleServer` hosts the samples the panel fetches.
- Books: `accepted` (wamid → what was sent), `recipients()` and `keys()` count what was accepted
  per number and per our message key, so tests count duplicates and losses by the fake's books.
"""

from tests.fakes.whatsapp.server import FakeWhatsApp
from tests.fakes.whatsapp.sinks import WebhookSink
from tests.fakes.whatsapp.uploads import SampleServer

__all__ = ["FakeWhatsApp", "SampleServer", "WebhookSink"]
