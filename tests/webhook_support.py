"""A real HTTP receiver for webhook tests, the docs' reference check, and a webhooks worker."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rq import SimpleWorker

from service.core import webhooks
from service.extensions import db

from .helpers import REPO_ROOT, free_port


def _reference_check():
    """The receiver's reference check, taken from docs/integrations.md and run as written."""
    doc = (REPO_ROOT / "docs" / "integrations.md").read_text()
    section = doc.split("### Verifying a signature", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "docs/integrations.md", "exec"), namespace)
    return namespace["verify_talkback_signature"]


verify = _reference_check()


class Receiver:
    """A real HTTP server on a free local port that records what it is sent."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[dict] = []
        self.status = 200
        self.answer = b"ok"
        self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/talkback?source=test"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": self.rfile.read(length),
                    }
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def events(self) -> list[str]:
        return [json.loads(r["body"])["type"] for r in self.requests]

    def payloads(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]


def run_webhook_worker() -> None:
    """Run a real RQ worker on the webhooks queue until it is empty; then see its writes."""
    queue = webhooks.webhook_queue()
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    db.session.remove()


def self_signed_certificate(directory, host: str) -> tuple[str, str]:
    """Write a self-signed certificate for `host` (and its key); return their paths."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{host}.pem", directory / f"{host}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


class TlsReceiver(Receiver):
    """The receiver over HTTPS with a given certificate."""

    def __init__(self, cert_path: str, key_path: str, host: str = "localhost") -> None:
        super().__init__()
        self.cert_path, self.key_path, self.host = cert_path, key_path, host

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}/hooks/talkback"

    def start(self) -> None:
        import ssl

        super().start()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self.key_path)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
