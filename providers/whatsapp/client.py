"""The Graph API over HTTP (providers.md §6.1): `Bearer` token, JSON, `/{version}/…` paths, and
Graph's error body read into a typed error. Whether a failure may have sent something is decided
here, from where the request stopped (§0.2)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from providers.sessions import settled_session

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 30


@dataclass(eq=False)  # not frozen: Python sets __traceback__ on exceptions
class GraphError(Exception):
    """Graph answered with an error body (or with something that is not Graph's)."""

    http_status: int
    code: int | None = None
    subcode: int | None = None
    message: str = ""
    details: str = ""
    transient: bool = False
    trace_id: str = ""

    def __str__(self) -> str:
        return f"Graph error {self.code} (HTTP {self.http_status}): {self.details or self.message}"


class GraphUnreachable(Exception):
    """The request did not get an answer. `maybe_sent`: it may have reached Meta (read timeout,
    connection dropped after writing); otherwise it never left."""

    def __init__(self, message: str, *, maybe_sent: bool):
        super().__init__(message)
        self.maybe_sent = maybe_sent


class GraphClient:
    def __init__(self, *, base_url: str, version: str, access_token: str, pool_size: int = 10):
        self.root = base_url.rstrip("/")
        self.version = version.strip("/")
        self.session = settled_session(self.root)
        adapter = requests.adapters.HTTPAdapter(pool_connections=2, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update(
            {"Authorization": f"Bearer {access_token}", "Accept": "application/json", "User-Agent": "consent-panel"}
        )
        self._access_token = access_token  # the Resumable Upload API's session calls send it as `OAuth`

    def __repr__(self) -> str:  # never the token
        return f"<GraphClient {self.root}/{self.version}>"

    def url(self, path: str) -> str:
        return f"{self.root}/{self.version}/{path.lstrip('/')}"

    def same_origin(self, url: str) -> bool:
        """Whether `url` (a paging.next link) points at our Graph root: the token goes nowhere else."""
        ours, theirs = urlsplit(self.root), urlsplit(url)
        return (ours.scheme, ours.netloc) == (theirs.scheme, theirs.netloc)

    def get(self, path_or_url: str, *, params: dict | None = None) -> dict:
        url = path_or_url if path_or_url.startswith(("http://", "https://")) else self.url(path_or_url)
        return self._request("GET", url, params=params)

    def post(self, path: str, *, body: dict) -> dict:
        return self._request("POST", self.url(path), json=body)

    def delete(self, path: str, *, params: dict | None = None) -> dict:
        return self._request("DELETE", self.url(path), params=params)

    def call(self, method: str, path: str, *, oauth: bool = False, **kwargs) -> dict:
        """Any request under our root (`params`, `data`, `headers` as requests takes them); `path` as
        given, so an upload session id keeps its `?sig=…`. `oauth`: the token goes as
        `Authorization: OAuth …`, as the Resumable Upload API's session endpoints ask."""
        if oauth:
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Authorization": f"OAuth {self._access_token}"}
        return self._request(method, self.url(path), **kwargs)

    def _request(self, method: str, url: str, **kwargs) -> dict:
        try:
            response = self.session.request(method, url, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), **kwargs)
        except requests.exceptions.ConnectTimeout:
            raise GraphUnreachable("could not connect to Meta's Graph API in time", maybe_sent=False) from None
        except requests.exceptions.ReadTimeout:
            raise GraphUnreachable("Meta's Graph API did not answer in time", maybe_sent=True) from None
        except requests.exceptions.ConnectionError as exc:
            refused = _never_connected(exc)
            raise GraphUnreachable(
                "could not reach Meta's Graph API" + (" (connection refused)" if refused else ""),
                maybe_sent=not refused,
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code < 300 and isinstance(body, dict):
            return body
        raise graph_error(response.status_code, response.text, body)


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | NameResolutionError)


def graph_error(status: int, text: str, body) -> GraphError:
    """The error an answer `status` with `text` (its JSON `body`, or None) stands for."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        text = text[:200] if status >= 300 else "an answer that is not Graph's JSON"
        return GraphError(http_status=status, message=text, transient=status >= 500)
    data = error.get("error_data")
    details = data.get("details", "") if isinstance(data, dict) else ""
    return GraphError(
        http_status=status,
        code=_int(error.get("code")),
        subcode=_int(error.get("error_subcode")),
        message=str(error.get("message") or ""),
        details=str(details or error.get("error_user_msg") or ""),
        transient=bool(error.get("is_transient")),
        trace_id=str(error.get("fbtrace_id") or ""),
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
