"""The transport under SmallestClient: httpx's own, with TLS set up on the first https request.

httpx builds its SSL context when the client is created, and loading the trusted
certificates into it (certifi's bundle, or `SSL_CERT_FILE`) takes OpenSSL about 45 ms, more
than anything else a command does before its first request. A plain-http base URL (the
emulator, a local proxy or test server) never uses them, so they are loaded only when an
https request is first sent, as curl does.
"""

from __future__ import annotations

import ssl
import threading

import httpx


class TlsOnFirstUse(httpx.BaseTransport):
    """One httpx.HTTPTransport for http:// and one for https://, each made when first needed."""

    def __init__(self) -> None:
        self._plain: httpx.HTTPTransport | None = None
        self._tls: httpx.HTTPTransport | None = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._for(request.url.scheme).handle_request(request)

    def _for(self, scheme: str) -> httpx.HTTPTransport:
        with self._lock:
            if scheme != "http":
                self._tls = self._tls or httpx.HTTPTransport()
                return self._tls
            # Plain connections never use a context; this one trusts nothing, so it fails
            # closed if it ever did.
            self._plain = self._plain or httpx.HTTPTransport(
                verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            )
            return self._plain

    def close(self) -> None:
        for transport in (self._plain, self._tls):
            if transport is not None:
                transport.close()
