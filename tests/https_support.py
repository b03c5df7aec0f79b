"""A real ``vrcollab serve --https`` for tests (the CLI path, with its redirect listener), and
what a browser needs to trust it the way a headset does after accepting it once.

Loopback names are secure contexts even over plain HTTP, so browser checks open the app by this
machine's mDNS name (:data:`LAN_NAME`, in the certificate) mapped to 127.0.0.1 with Chromium's
``--host-resolver-rules``; nothing leaves the machine.
"""

from __future__ import annotations

import base64
import hashlib
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.server_process import REPO, ServerProcess, free_port
from vrcollab.server.lan import machine_names

#: this machine's mDNS name: in the certificate, and mapped to 127.0.0.1 for the browser
LAN_NAME = next((n for n in machine_names() if n.endswith(".local")), "")


def clean_env() -> dict[str, str]:
    """This process's environment without ``VRCOLLAB_*`` settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("VRCOLLAB_")}


class HttpsServer(ServerProcess):
    """``vrcollab serve --https --own-ca`` on 127.0.0.1, HTTP redirect on :attr:`http_port`."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.http_port = free_port()
        self.command = [sys.executable, "-m", "vrcollab.cli", "serve", "--https", "--own-ca",
                        "--no-demo", "--host", "127.0.0.1", "--port", str(self.port),
                        "--http-port", str(self.http_port), "--data-dir", str(self.data_dir)]

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca(self) -> Path:
        """The root to trust: vrcollab's own CA (``--own-ca``, whether mkcert is there or not)."""
        return self.data_dir / "tls" / "ca.pem"

    def trusting(self) -> ssl.SSLContext:
        """A client TLS context that trusts :attr:`ca`."""
        return ssl.create_default_context(cafile=str(self.ca))

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(self.command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                     env={**clean_env(), "PYTHONUNBUFFERED": "1"})
        log.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            if self.ca.is_file():
                try:
                    if httpx.get(self.base_url + "/api/health", verify=self.trusting(),
                                 timeout=1.0).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start:\n{self.log()}")


def spki_hash(cert_pem: Path) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of the first certificate in ``cert_pem``: what
    Chromium's ``--ignore-certificate-errors-spki-list`` trusts."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    leaf = x509.load_pem_x509_certificate(cert_pem.read_bytes())
    spki = leaf.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()
