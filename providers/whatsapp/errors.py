"""Meta's error codes in our terms (providers.md §6.6, §6.7): one table, used for the answer to a
send (a Graph error) and for a `failed` status webhook (its `errors[]`), so both say the same."""

from __future__ import annotations

from dataclasses import dataclass

from providers.base import DeliveryStatus, SendError


class Kind:
    """What the caller should do about an error."""

    ACCOUNT = "account"  # the token, the ids or the permissions: fix the account, retrying cannot help
    BACKOFF = "backoff"  # throughput / rate limits: come back later, nothing was sent
    PAIR_RATE = "pair_rate"  # too fast for this one recipient (131056): delay that recipient
    STOP_CAMPAIGN = "stop_campaign"  # Meta's quality limits (131048, 131064): stop the whole campaign
    RETRY = "retry"  # a passing error at Meta: retry a few times
    MESSAGE = "message"  # this message is refused for good; `status` says how


@dataclass(frozen=True)
class MetaError:
    kind: str
    words: str
    status: str = DeliveryStatus.FAILED  # for MESSAGE: the message's final status
    consent_refused: bool = False  # 131050: the user stopped marketing messages (a consent signal)
    retry_after: float | None = None


_TOKEN = MetaError(Kind.ACCOUNT, "Meta refused the access token (it is wrong, expired or revoked)")
_PERMISSION = MetaError(
    Kind.ACCOUNT,
    "the access token has no permission for this (it needs whatsapp_business_messaging and "
    "whatsapp_business_management on this WhatsApp Business account)",
)
_TEMPLATE = DeliveryStatus.REJECTED
_OUTSIDE = DeliveryStatus.REJECTED

ERRORS: dict[int, MetaError] = {
    0: _TOKEN,
    190: _TOKEN,
    3: _PERMISSION,
    10: _PERMISSION,
    4: MetaError(Kind.BACKOFF, "too many API calls for this app; Meta asks to slow down", retry_after=60),
    80007: MetaError(Kind.BACKOFF, "the WhatsApp Business account's rate limit is reached", retry_after=60),
    130429: MetaError(Kind.BACKOFF, "the phone number's throughput is exceeded (messages per second)", retry_after=2),
    131056: MetaError(
        Kind.PAIR_RATE, "too many messages to this recipient in a short time (pair rate limit)", retry_after=6
    ),
    131048: MetaError(
        Kind.STOP_CAMPAIGN, "Meta's spam rate limit: too many recipients blocked or reported these messages"
    ),
    131064: MetaError(
        Kind.STOP_CAMPAIGN, "the messaging limit is reached because of template classification violations"
    ),
    368: MetaError(Kind.ACCOUNT, "the account is temporarily blocked for policy violations"),
    131031: MetaError(Kind.ACCOUNT, "the WhatsApp Business account is locked"),
    130497: MetaError(Kind.ACCOUNT, "the business may not send to users in this country"),
    131005: MetaError(Kind.ACCOUNT, "access denied: the token may not use this phone number"),
    131042: MetaError(Kind.ACCOUNT, "there is a problem with the account's payment method"),
    131045: MetaError(Kind.ACCOUNT, "the phone number is not registered (certificate or registration problem)"),
    131000: MetaError(Kind.RETRY, "Meta had an unknown error"),
    131016: MetaError(Kind.RETRY, "WhatsApp was temporarily unavailable"),
    135000: MetaError(Kind.RETRY, "Meta had a generic error"),
    131057: MetaError(Kind.RETRY, "the account is in maintenance", retry_after=300),
    1: MetaError(Kind.RETRY, "Meta had an unknown error"),
    2: MetaError(Kind.RETRY, "Meta's service was temporarily unavailable"),
    131008: MetaError(Kind.MESSAGE, "a required parameter is missing", DeliveryStatus.REJECTED),
    131009: MetaError(Kind.MESSAGE, "a parameter value is not valid", DeliveryStatus.REJECTED),
    131021: MetaError(Kind.MESSAGE, "the recipient is the sending number itself", DeliveryStatus.REJECTED),
    131026: MetaError(
        Kind.MESSAGE,
        "the message could not be delivered: the number may have no WhatsApp, an old app, or has not "
        "accepted WhatsApp's terms",
        DeliveryStatus.UNDELIVERED,
    ),
    131030: MetaError(Kind.MESSAGE, "the recipient is not in the test number's allowed list", DeliveryStatus.REJECTED),
    131047: MetaError(
        Kind.MESSAGE,
        "more than 24 hours have passed since the contact last wrote, so only a template may be sent",
        _OUTSIDE,
    ),
    131049: MetaError(
        Kind.MESSAGE,
        "Meta held the message back to keep engagement healthy (per-user marketing limit); try again after 24 hours",
        DeliveryStatus.REJECTED,
    ),
    130472: MetaError(
        Kind.MESSAGE,
        "the recipient is in Meta's marketing-message experiment group and receives no marketing messages",
        DeliveryStatus.REJECTED,
    ),
    131050: MetaError(
        Kind.MESSAGE,
        "the recipient stopped marketing messages from this business",
        DeliveryStatus.REJECTED,
        consent_refused=True,
    ),
    131051: MetaError(Kind.MESSAGE, "this message type is not supported", DeliveryStatus.REJECTED),
    131052: MetaError(Kind.MESSAGE, "the recipient's media could not be downloaded", DeliveryStatus.FAILED),
    131053: MetaError(Kind.MESSAGE, "the media could not be uploaded", DeliveryStatus.REJECTED),
    132000: MetaError(
        Kind.MESSAGE, "the number of template parameters does not match the approved template", _TEMPLATE
    ),
    132001: MetaError(Kind.MESSAGE, "the template does not exist in this language or is not approved", _TEMPLATE),
    132005: MetaError(Kind.MESSAGE, "the template text is too long once its parameters are filled in", _TEMPLATE),
    132007: MetaError(Kind.MESSAGE, "the template content breaks WhatsApp's policy", _TEMPLATE),
    132008: MetaError(Kind.MESSAGE, "a template parameter has the wrong type", _TEMPLATE),
    132012: MetaError(Kind.MESSAGE, "a template parameter has the wrong format", _TEMPLATE),
    132015: MetaError(Kind.MESSAGE, "the template is paused (its quality is low)", _TEMPLATE),
    132016: MetaError(Kind.MESSAGE, "the template is disabled", _TEMPLATE),
}
# failed status webhooks with these codes were never delivered for a passing reason (§6.6)
RETRYABLE_FAILURES = frozenset({130429, 131056, 131000, 131016, 135000, 131057})
OBJECT_MISSING_SUBCODE = 33  # code 100: "Object with ID … does not exist / missing permissions"


def meta_error(code: int | None, *, subcode: int | None = None, transient: bool = False) -> MetaError:
    """Our reading of a Graph error code; unknown codes are a refusal of the message unless Meta
    marks them transient."""
    if code is not None and code in ERRORS:
        return ERRORS[code]
    if code is not None and 200 <= code <= 299:
        return _PERMISSION
    if code == 100 and subcode == OBJECT_MISSING_SUBCODE:
        return MetaError(
            Kind.ACCOUNT,
            "Meta does not know the phone number id or WhatsApp Business account id (or the token may not see it)",
        )
    if code == 100:
        return MetaError(Kind.MESSAGE, "Meta found a parameter not valid", DeliveryStatus.REJECTED)
    if transient:
        return MetaError(Kind.RETRY, "Meta had a passing error")
    return MetaError(Kind.MESSAGE, "Meta refused the message", DeliveryStatus.FAILED)


def describe(code: int | None, meta_words: str = "", details: str = "", *, subcode: int | None = None) -> str:
    """A sentence for people: our words for the code, then Meta's own detail when it adds something."""
    ours = meta_error(code, subcode=subcode).words
    extra = details or meta_words
    prefix = f"WhatsApp error {code}: " if code is not None else "WhatsApp error: "
    return prefix + ours + (f" ({extra})" if extra and extra.lower() not in ours.lower() else "")


class WhatsAppSendError(SendError):
    """A send Meta refused or that may not have arrived. Besides SendError's fields:
    `stop_campaign` (131048/131064: stop sending the campaign, not just this message),
    `per_recipient` (131056: only this recipient must wait `retry_after`), `account_problem`
    (token, ids, permissions, a locked account: nothing will go until the account is fixed),
    `meta_code` (Meta's error code, None for transport problems)."""

    def __init__(
        self,
        message: str,
        *,
        meta_code: int | None = None,
        stop_campaign: bool = False,
        per_recipient: bool = False,
        account_problem: bool = False,
        **kwargs,
    ):
        super().__init__(message, **kwargs)
        self.meta_code = meta_code
        self.stop_campaign = stop_campaign
        self.per_recipient = per_recipient
        self.account_problem = account_problem
