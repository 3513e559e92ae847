"""How a Qdrant server is reached: its address, and the API key's rules.

Addresses: the URL's port is the REST port (6333 when it names none). gRPC is preferred
on 6334 when the REST port is Qdrant's 6333, on ``grpc_port`` when given, and not used
otherwise (a server behind a proxy on another port speaks REST there). An API key
(``$QDRANT_API_KEY``) is never sent over plain ``http://`` to a host that is not loopback
unless the caller allows it, and a URL with credentials is refused: messages never
contain them, nor the key.
"""

from __future__ import annotations

import ipaddress
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from entivec.errors import InvalidStoreError

API_KEY_ENV = "QDRANT_API_KEY"
DEFAULT_TIMEOUT = 10
QDRANT_REST_PORT = 6333
QDRANT_GRPC_PORT = 6334


@dataclass(frozen=True)
class ServerAddress:
    """Where a Qdrant server listens, read from a STORE URL (no credentials kept).

    Attributes:
        https: Whether the URL is ``https://``.
        host: Host name or address.
        port: The REST port.
        grpc_port: The gRPC port, or ``None`` to talk REST only.
    """

    https: bool
    host: str
    port: int
    grpc_port: int | None

    @classmethod
    def parse(cls, url: str, *, grpc_port: int | None = None) -> ServerAddress:
        """Read ``url``; ``grpc_port`` overrides the gRPC port the URL implies.

        Raises:
            InvalidStoreError: Not an http(s) URL with a host, a bad port, or credentials
                in the URL (the message never repeats them).
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidStoreError(
                "STORE: expected an http(s)://host[:port] URL of a Qdrant server"
            )
        host = parts.hostname
        if parts.username is not None or parts.password is not None:
            raise InvalidStoreError(
                f"STORE {parts.scheme}://{host}: credentials in the URL are not used by Qdrant; "
                f"remove them and put the API key in ${API_KEY_ENV}"
            )
        if parts.query or parts.fragment:
            # qdrant-client would drop it silently; an api-key there would also land in
            # shell histories and proxy logs
            raise InvalidStoreError(
                f"STORE {parts.scheme}://{host}: a query string or fragment is not used; "
                f"remove it (an API key goes in ${API_KEY_ENV})"
            )
        try:
            port = parts.port or QDRANT_REST_PORT
        except ValueError:
            raise InvalidStoreError(
                f"STORE {parts.scheme}://{host}: the port is not a number in 1..65535"
            ) from None
        if grpc_port is None and port == QDRANT_REST_PORT:
            grpc_port = QDRANT_GRPC_PORT
        return cls(parts.scheme == "https", host, port, grpc_port)

    @property
    def loopback(self) -> bool:
        """Whether the host is this machine."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        scheme = "https" if self.https else "http"
        grpc = f", gRPC {self.grpc_port}" if self.grpc_port else ", REST only"
        return f"{scheme}://{self.host}:{self.port}{grpc}"


def check_key_transport(
    address: ServerAddress, api_key: str | None, *, allow_insecure: bool = False
) -> None:
    """Refuse to send ``api_key`` in cleartext (plain http to a host that is not loopback)
    unless ``allow_insecure``.

    Raises:
        InvalidStoreError: The key would travel in cleartext.
    """
    if api_key and not address.https and not address.loopback and not allow_insecure:
        raise InvalidStoreError(
            f"refusing to send ${API_KEY_ENV} in cleartext to {address.host} over http://: "
            "use https://, or pass --allow-insecure on a network you trust"
        )


def open_client(address: ServerAddress, api_key: str | None, *, timeout: int) -> Any:
    """A ``qdrant_client.QdrantClient`` for ``address`` (gRPC where it has a gRPC port),
    sending ``api_key``, whose transport :func:`check_key_transport` has already allowed.

    Args:
        address: Where the server listens.
        api_key: The API key, or ``None``.
        timeout: Seconds one request may take.
    """
    from qdrant_client import QdrantClient

    with warnings.catch_warnings():
        # check_key_transport has decided the insecure case; qdrant-client would warn on
        # every open
        warnings.filterwarnings("ignore", message="Api key is used with an insecure connection")
        return QdrantClient(
            host=address.host,
            port=address.port,
            grpc_port=address.grpc_port or QDRANT_GRPC_PORT,
            prefer_grpc=address.grpc_port is not None,
            https=address.https,
            api_key=api_key,
            timeout=timeout,
        )
