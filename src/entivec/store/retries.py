"""Which failures of a Qdrant server are worth retrying, the retrying itself, and how a
request that failed is reported.

Retries: idempotent operations (reads, searches, upserts and vector updates of uuid5
ids, whose repeat does no harm) are retried with exponential backoff on errors a server
recovers from (429, 502-504, gRPC UNAVAILABLE/DEADLINE_EXCEEDED/RESOURCE_EXHAUSTED,
dropped connections; never a certificate that does not verify), for at most
:data:`RETRY_ATTEMPTS` attempts and :data:`RETRY_BUDGET` seconds; a refused or timed-out
connection is retried only once the server has answered (one that never answered is not
there, or does not speak Qdrant).
Creating a collection, a named vector or a payload index is not retried. Each request
waits at most ``timeout`` seconds (:data:`entivec.store.transport.DEFAULT_TIMEOUT`), so
a host that never answers fails after one timeout.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from entivec.errors import StoreError
from entivec.store.transport import ServerAddress

# Retry warnings are about a server store's requests, so they log under its name: the CLI
# prints the logger's name, and a logging config may filter on it.
log = logging.getLogger("entivec.store.server")
T = TypeVar("T")
_TRANSIENT_HTTP = {429, 502, 503, 504}


def is_transient(exc: BaseException) -> bool:
    """Whether a qdrant-client error is worth retrying: never a certificate that does
    not verify (a retry meets the same certificate), nor a refused key (401, 403)."""
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    if is_certificate_failure(exc):
        return False
    if isinstance(exc, UnexpectedResponse):
        return exc.status_code in _TRANSIENT_HTTP
    if isinstance(exc, ResponseHandlingException | ConnectionError | TimeoutError):
        return True
    try:
        import grpc
    except ImportError:  # pragma: no cover - qdrant-client depends on grpcio
        return False
    if isinstance(exc, grpc.RpcError) and hasattr(exc, "code"):
        code = exc.code()
        return code in {
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.DEADLINE_EXCEEDED,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
        }
    return False


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps, outermost first (its cause, else its context)."""
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def is_certificate_failure(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) is a certificate that did not verify; a TLS
    connection dropped mid-way is not one (it may be retried)."""
    return any(
        isinstance(seen, ssl.SSLCertVerificationError)
        or "certificate verify failed" in str(seen).lower()
        for seen in _chain(exc)
    )


def is_refused(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) is a refused connection, on either transport."""
    return any(
        isinstance(seen, ConnectionRefusedError)
        or "connection refused" in str(seen).lower()
        or "connecterror" in type(seen).__name__.lower()
        for seen in _chain(exc)
    )


def _timed_out(seen: BaseException) -> bool:
    if isinstance(seen, TimeoutError) or "timeout" in type(seen).__name__.lower():
        return True
    code = getattr(seen, "code", None)
    if callable(code) and getattr(code(), "name", "") == "DEADLINE_EXCEEDED":
        return True
    return "timed out" in str(seen).lower()


def is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) is a request that ran out of time."""
    return any(_timed_out(seen) for seen in _chain(exc))


def failure(exc: BaseException) -> str:
    """What went wrong, in a few words: the transport's status, never a repr."""
    from qdrant_client.http.exceptions import UnexpectedResponse

    if is_certificate_failure(exc):
        return "its TLS certificate did not verify"
    if is_refused(exc):
        return "connection refused"
    if is_timeout(exc):
        return "timed out"
    if isinstance(exc, UnexpectedResponse):
        return f"HTTP {exc.status_code} {exc.reason_phrase}".rstrip()
    code = getattr(exc, "code", None)
    if callable(code):
        details = getattr(exc, "details", lambda: "")() or ""
        return f"gRPC {code().name}: {details}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


# Attempts, the longest wait between two and the time budget of one operation's
# retries, in seconds; tests lower them.
RETRY_ATTEMPTS = 6
RETRY_MAX_WAIT = 8.0
RETRY_BUDGET = 20.0


def _retrying(fn: Callable[[], T], *, answered: bool, what: str) -> Callable[[], T]:
    """``fn`` retried on transient errors; before the server has ever answered, a refused
    or timed-out connection is final (nothing is listening, or nothing that answers)."""

    def worth_retrying(exc: BaseException) -> bool:
        return is_transient(exc) and (answered or not (is_refused(exc) or is_timeout(exc)))

    def say(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0
        log.warning("%s: %s; retrying in %.1f s", what, failure(exc) if exc else "?", wait)

    return retry(
        retry=retry_if_exception(worth_retrying),
        wait=wait_exponential(multiplier=0.5, max=RETRY_MAX_WAIT),
        stop=stop_after_attempt(RETRY_ATTEMPTS) | stop_after_delay(RETRY_BUDGET),
        before_sleep=say,
        reraise=True,
    )(fn)


class Requests:
    """How a store sends its requests: an idempotent one is retried (see the module
    docstring), and a failure is a one-line :class:`~entivec.errors.StoreError` that says
    what could not be done, why and where, with no secret in it.

    Args:
        description: How to name the store in messages.
        address: The server, or ``None`` in qdrant-client's local mode.
        secrets: What no message may contain (the API key).
    """

    def __init__(
        self, description: str, *, address: ServerAddress | None, secrets: Sequence[str] = ()
    ) -> None:
        self.description = description
        self.where = ""
        if address is not None:
            self.where = f" at {address.host}:{address.grpc_port or address.port}"
        self.secrets = [secret for secret in secrets if secret]
        self.answered = address is None  # local mode is always there

    def __call__(self, action: str, fn: Callable[[], T], *, idempotent: bool = True) -> T:
        """``fn()``, retried if ``idempotent``; ``action`` names it in messages.

        Raises:
            StoreError: It failed (for good, or after its retries).
        """
        try:
            if idempotent:
                what = self.scrub(f"{self.description}: {action}{self.where}")
                result = _retrying(fn, answered=self.answered, what=what)()
            else:
                result = fn()
        except StoreError:
            raise
        except Exception as exc:
            message = f"{self.description}: could not {action}: {failure(exc)}{self.where}"
            raise StoreError(self.scrub(message)) from exc
        self.answered = True
        return result

    def scrub(self, message: str) -> str:
        """One line, with no secret in it."""
        for secret in self.secrets:
            message = message.replace(secret, "***")
        return " ".join(message.split())
