"""Content-Security-Policy helpers (the policy itself is CONTENT_SECURITY_POLICY in settings)."""

import base64
import hashlib


def source_hash(text: str) -> str:
    """The CSP hash source ('sha256-…') that allows exactly this inline script, handler or style."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"
