"""The server path without a server: addresses, the API key's transport, one-line
failures that say what failed, and which operations are retried. Every connection here
goes to loopback; the key is a sentinel that must appear in no message and no log."""

from __future__ import annotations

import logging
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from qdrant_client import QdrantClient
from qdrant_client.http.exceptions import UnexpectedResponse

import entivec.store.retries as store_retries
from entivec.cli import cli
from entivec.errors import InvalidStoreError, StoreError
from entivec.store import VectorSchema, open_store
from entivec.store.server import ServerStore
from entivec.store.transport import ServerAddress, check_key_transport

SENTINEL = "sentinel-k3y-never-shown"
E5 = VectorSchema("e5", 4, "cosine")


@pytest.mark.parametrize(
    ("url", "grpc_port", "expected"),
    [
        ("http://qdrant", None, (False, "qdrant", 6333, 6334)),
        ("http://qdrant:6333", None, (False, "qdrant", 6333, 6334)),
        ("https://qdrant:443", None, (True, "qdrant", 443, None)),
        ("http://proxy:8080", None, (False, "proxy", 8080, None)),
        ("http://proxy:8080", 9090, (False, "proxy", 8080, 9090)),
    ],
)
def test_the_urls_port_is_the_rest_port_and_grpc_only_where_known(
    url: str, grpc_port: int | None, expected: tuple[bool, str, int, int | None]
) -> None:
    address = ServerAddress.parse(url, grpc_port=grpc_port)
    assert (address.https, address.host, address.port, address.grpc_port) == expected


@pytest.mark.parametrize("url", ["http://admin:pw-XYZ@qdrant:6333", "https://:pw-XYZ@qdrant"])
def test_credentials_in_the_url_are_refused_without_repeating_them(url: str) -> None:
    with pytest.raises(InvalidStoreError, match="credentials in the URL") as info:
        open_store(url)
    assert "pw-XYZ" not in str(info.value) and "admin" not in str(info.value)


def test_the_key_never_travels_in_cleartext_unless_allowed() -> None:
    remote = ServerAddress.parse("http://qdrant.example:6333")
    with pytest.raises(InvalidStoreError, match="--allow-insecure") as info:
        check_key_transport(remote, SENTINEL)
    assert SENTINEL not in str(info.value)
    check_key_transport(remote, SENTINEL, allow_insecure=True)
    check_key_transport(remote, None)
    check_key_transport(ServerAddress.parse("https://qdrant.example"), SENTINEL)
    for host in ("localhost", "127.0.0.1", "[::1]"):
        check_key_transport(ServerAddress.parse(f"http://{host}:6333"), SENTINEL)


def test_the_cli_refuses_before_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QDRANT_API_KEY", SENTINEL)
    result = CliRunner().invoke(cli, ["search", "x", "--store", "http://qdrant.example:6333"])
    assert result.exit_code == 1
    assert "refusing to send $QDRANT_API_KEY in cleartext" in result.output
    assert SENTINEL not in result.output and result.output.strip().count("\n") == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.usefixtures("hashed_plugins")
def test_a_refused_port_fails_at_once_saying_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("QDRANT_API_KEY", SENTINEL)
    port = _free_port()
    with caplog.at_level(logging.WARNING):
        result = CliRunner().invoke(
            cli, ["search", "x", "--vector", "hashed", "--store", f"http://127.0.0.1:{port}"]
        )
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert line.endswith(f"could not search: connection refused at 127.0.0.1:{port}")
    assert f"http://127.0.0.1:{port}, REST only" in line
    assert "retrying" not in caplog.text  # nothing listens: nothing to wait for
    assert SENTINEL not in result.output and SENTINEL not in caplog.text


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback listener that accepts connections and never answers; it stops itself."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


@pytest.mark.usefixtures("hashed_plugins")
@pytest.mark.parametrize("grpc", [False, True])
def test_a_silent_host_times_out_once(
    silent_port: int, grpc: bool, caplog: pytest.LogCaptureFixture
) -> None:
    store = f"http://127.0.0.1:{silent_port}"
    args = ["search", "x", "--vector", "hashed", "--store", store, "--timeout", "1"]
    if grpc:
        args += ["--grpc-port", str(silent_port)]
    with caplog.at_level(logging.WARNING):
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert (
        result.output.strip()
        .splitlines()[-1]
        .endswith(f"could not search: timed out at 127.0.0.1:{silent_port}")
    )
    assert "retrying" not in caplog.text


class _Scripted:
    """The real local-mode client, raising the scripted errors first."""

    def __init__(self, **errors: list[BaseException]) -> None:
        self.inner = QdrantClient(":memory:")
        self.errors = errors
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            if self.errors.get(name):
                raise self.errors[name].pop(0)
            return method(*args, **kwargs)

        return call


def _store(client: _Scripted) -> ServerStore:
    address = ServerAddress.parse("http://127.0.0.1:6333")
    store = ServerStore(client, collection="c", description="scripted", address=address)
    return store


def test_creating_is_not_retried_but_reading_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_retries, "RETRY_MAX_WAIT", 0.01)
    busy = UnexpectedResponse(503, "Service Unavailable", b"busy", None)  # type: ignore[arg-type]
    client = _Scripted(create_collection=[busy], collection_exists=[busy])
    store = _store(client)
    with pytest.raises(StoreError, match="could not create the collection: HTTP 503"):
        store.ensure_schema([E5])
    assert client.calls["create_collection"] == 1
    assert client.calls["collection_exists"] == 2  # the 503 of a read was retried


def test_once_the_server_answered_a_refused_connection_is_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(store_retries, "RETRY_MAX_WAIT", 0.01)
    client = _Scripted()
    store = _store(client)
    store.ensure_schema([E5])
    client.errors["count"] = [ConnectionRefusedError(111, "Connection refused")] * 2
    assert store.count() == 0 and client.calls["count"] == 3


@pytest.fixture
def untrusted_tls_port(tmp_path: Path) -> Iterator[int]:
    """A loopback TLS listener whose certificate is self-signed, so no client trusts it."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl binary to make a self-signed certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subprocess.run(
        [openssl, *request, "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection = listener.accept()[0]
            except OSError:
                continue
            connection.settimeout(5)
            try:
                context.wrap_socket(connection, server_side=True).close()
            except (OSError, ssl.SSLError):
                connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join(timeout=10)
    listener.close()


@pytest.mark.usefixtures("hashed_plugins")
def test_a_certificate_that_does_not_verify_is_not_retried(
    untrusted_tls_port: int, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("QDRANT_API_KEY", SENTINEL)
    store = f"https://127.0.0.1:{untrusted_tls_port}"
    with caplog.at_level(logging.WARNING):
        result = CliRunner().invoke(cli, ["search", "x", "--vector", "hashed", "--store", store])
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("Error:") and "TLS certificate did not verify" in line
    assert "retrying" not in caplog.text  # the same certificate would come back
    assert SENTINEL not in result.output and SENTINEL not in caplog.text


def test_a_query_string_in_the_url_is_refused_without_repeating_it() -> None:
    result = CliRunner().invoke(
        cli, ["search", "x", "--store", f"https://qdrant.example/?api-key={SENTINEL}"]
    )
    assert result.exit_code == 1
    assert "a query string or fragment is not used" in result.output
    assert "$QDRANT_API_KEY" in result.output and SENTINEL not in result.output
