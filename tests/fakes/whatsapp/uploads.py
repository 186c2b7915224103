"""The fake's Resumable Upload API (template samples) and the public host of samples in tests."""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from functools import cached_property
from http.server import BaseHTTPRequestHandler
from urllib.parse import quote

from tests.fakes.whatsapp.common import (
    CUT,
    MEDIA_TYPES,
    UPLOAD_TYPES,
    _bearer,
    _error,
    _QuickServer,
)


class UploadsMixin:
    # --- Resumable Upload API (template samples) ------------------------------------------------
    app_id = "584544743160774"  # the Meta app uploads go to: POST /{v}/{app_id}/uploads
    cut_upload_after: int | None = None  # keep this many bytes of the next upload, then drop the connection

    @cached_property
    def uploads(self) -> dict[str, dict]:
        """Upload sessions by id (`upload:…?sig=…`): file_name, file_length, file_type, data, handle."""
        return {}

    def uploaded(self, handle: str) -> dict | None:
        """The finished upload `handle` was issued for (None: not a handle this fake gave)."""
        with self._lock:
            return next((u for u in self.uploads.values() if handle and u["handle"] == handle), None)

    def _upload_route(self, method: str, path: str, query: dict, headers, raw: bytes):
        """The upload endpoints, ahead of the JSON routes (their token and body differ): an answer,
        CUT (drop the connection) or None (not an upload path)."""
        parts = path.strip("/").split("/")
        if len(parts) < 2 or not re.fullmatch(r"v\d+\.\d+", parts[0]):
            return None
        if method == "POST" and len(parts) == 3 and parts[2] == "uploads":
            return self._upload_start(parts[1], _bearer(headers, "Bearer") or query.get("access_token", ""), query)
        rest = "/".join(parts[1:])
        if rest.startswith("upload:") and method in ("GET", "POST"):
            # step 2 takes the token only in the header (OAuth); the GET also as access_token
            token = _bearer(headers, "OAuth") or (query.get("access_token", "") if method == "GET" else "")
            return self._upload_session(method, f"{rest}?sig={query.get('sig', '')}", token, headers, raw)
        return None

    def _upload_refused_token(self, token: str) -> tuple[int, dict] | None:
        if token in self.limited_tokens:
            return 403, _error(10, "Application does not have permission for this action", "", kind="OAuthException")
        if token != self.access_token:
            return 401, _error(190, "Invalid OAuth access token - Cannot parse access token", "", kind="OAuthException")
        return None

    def _upload_start(self, app_id: str, token: str, query: dict) -> tuple[int, dict]:
        if refused := self._upload_refused_token(token):
            return refused
        if app_id != self.app_id:
            return 400, _error(
                100,
                f"Unsupported post request. Object with ID '{app_id}' does not exist, cannot be loaded due to "
                "missing permissions, or does not support this operation.",
                subcode=33,
                kind="GraphMethodException",
            )
        length, file_type, name = query.get("file_length", ""), query.get("file_type", ""), query.get("file_name", "")
        if not length.isdigit() or int(length) <= 0:
            return 400, _error(100, "Invalid parameter", "file_length must be the file's size in bytes")
        if file_type not in UPLOAD_TYPES:
            return 400, _error(
                100, "Invalid parameter", f"file_type {file_type!r} is not one of {', '.join(UPLOAD_TYPES)}"
            )
        if not name:
            return 400, _error(100, "Invalid parameter", "file_name is required")
        described = f"1:attachment:{uuid.uuid4()}?file_length={length}&file_type={quote(file_type, safe='')}"
        session_id = f"upload:{base64.b64encode(described.encode()).decode()}?sig=AR{secrets.token_urlsafe(12)}"
        with self._lock:
            self.uploads[session_id] = {
                "file_name": name,
                "file_length": int(length),
                "file_type": file_type,
                "data": bytearray(),
                "handle": "",
            }
        return 200, {"id": session_id}

    def _upload_session(self, method: str, session_id: str, token: str, headers, raw: bytes):
        if refused := self._upload_refused_token(token):
            return refused
        with self._lock:
            upload = self.uploads.get(session_id)
            if upload is None:
                return 400, _error(100, "Invalid parameter", "HMAC check failed: not an upload session of this app")
            if method == "GET":
                return 200, {"id": session_id, "file_offset": len(upload["data"])}
            offset = str(headers.get("file_offset") or "")
            if not offset.isdigit():
                return 400, _error(100, "Invalid parameter", "the file_offset header is required")
            if int(offset) != len(upload["data"]):
                return 400, _error(
                    100,
                    "Invalid parameter",
                    f"file_offset {offset} does not match the {len(upload['data'])} bytes held",
                )
            if int(offset) + len(raw) > upload["file_length"]:
                return 400, _error(100, "Invalid parameter", "more bytes than the session's file_length")
            if self.cut_upload_after is not None:
                upload["data"] += raw[: self.cut_upload_after]
                self.cut_upload_after = None
                return CUT
            upload["data"] += raw
            if len(upload["data"]) < upload["file_length"]:
                return 200, {"id": session_id, "file_offset": len(upload["data"])}
            if not upload["handle"]:
                kind = base64.b64encode(upload["file_type"].encode()).decode()
                upload["handle"] = f"4::{kind}:AR{secrets.token_urlsafe(18)}"
            return 200, {"h": upload["handle"]}

    def _media_header_refusal(self, components: list) -> tuple[int, dict] | None:
        """Meta creates a media header only with the handle of a file uploaded to the app (a link or
        any other string: 100 Invalid parameter), and of the header's kind."""
        for component in components:
            if not isinstance(component, dict) or str(component.get("type", "")).upper() != "HEADER":
                continue
            header_format = str(component.get("format", "TEXT")).upper()
            if header_format not in MEDIA_TYPES:
                continue
            example = component.get("example") if isinstance(component.get("example"), dict) else {}
            handles = example.get("header_handle")
            handle = handles[0] if isinstance(handles, list) and len(handles) == 1 else None
            upload = self.uploaded(handle) if isinstance(handle, str) else None
            if upload is None:
                return 400, _error(
                    100,
                    "Invalid parameter",
                    f"header_handle {handle!r} is not the handle of a file uploaded to the app",
                )
            if upload["file_type"] not in MEDIA_TYPES[header_format]:
                return 400, _error(
                    100, "Invalid parameter", f"a {header_format} header's sample cannot be {upload['file_type']}"
                )
        return None


class SampleServer(_QuickServer):
    """The public host of media-header samples in tests, over http on 127.0.0.1: `add()` a file and
    get its link. `fetched` lists the paths asked for; `redirects` sends a path elsewhere (302);
    `hide_length` answers without Content-Length (the body ends when the connection closes)."""

    def __init__(self):
        self.files: dict[str, tuple[bytes, str]] = {}
        self.redirects: dict[str, str] = {}
        self.fetched: list[str] = []
        self.hide_length = False
        self._serve(self._handler())

    def add(self, name: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        self.files[f"/{name}"] = (data, content_type)
        return f"{self.url}/{name}"

    def _handler(self):
        samples = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                samples.fetched.append(self.path)
                if target := samples.redirects.get(self.path):
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data, content_type = samples.files.get(self.path, (b"not found", "text/plain"))
                self.send_response(200 if self.path in samples.files else 404)
                self.send_header("Content-Type", content_type)
                if not samples.hide_length:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
