"""HttpCalls over the standard library: one request, a status back, errors translated here."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping

from ir.core.errors import BackendUnavailable, TransientError


class HttpClient:
    """Plain HTTP(S) requests to provider APIs."""

    def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float) -> int:
        """Send the request; an HTTP error status is returned, a connection failure raised."""
        req = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except TimeoutError as exc:
            raise TransientError(f"{method} {url}: timed out after {timeout:g}s") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise BackendUnavailable(f"{method} {url}: unreachable ({reason})") from exc
