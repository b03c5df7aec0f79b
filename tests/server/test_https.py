"""``vrcollab serve --https``: a real server with the certificate it generates and keeps, the
HTTP -> HTTPS redirect and the printed QR code. The headset page over it (a secure context with
WebXR) is tested in ``tests/web/test_web_https.py``."""

from __future__ import annotations

import re
import shutil
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.https_support import HttpsServer, clean_env
from tests.server_process import REPO
from vrcollab.server.lan import machine_names, qr_matrix, reachable_urls, terminal_qr
from vrcollab.server.tls import covers, ensure_certificate, redirect_target


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsServer]:
    srv = HttpsServer(tmp_path_factory.mktemp("https"))
    srv.start()
    yield srv
    srv.stop()


# --- the certificate --------------------------------------------------------------------------


def test_certificate_is_made_once_and_names_this_machine(https_server: HttpsServer) -> None:
    from cryptography import x509

    cert_pem = https_server.data_dir / "tls" / "cert.pem"
    cert = x509.load_pem_x509_certificate(cert_pem.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"localhost", *machine_names()} <= set(san.get_values_for_type(x509.DNSName))
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} >= {"127.0.0.1", "::1"}
    # a second start keeps it (a headset that accepted it once is not asked again)
    names = [*machine_names(), "127.0.0.1"]
    again = ensure_certificate(https_server.data_dir, names, use_mkcert=False)
    assert again.cert.read_bytes() == cert_pem.read_bytes()
    assert again.issuer == "vrcollab"
    # a new LAN address makes a new leaf from the same CA
    ca_before = https_server.ca.read_bytes()
    tmp = https_server.data_dir / "copy"
    shutil.copytree(https_server.data_dir / "tls", tmp / "tls")
    moved = ensure_certificate(tmp, [*names, "10.9.8.7"], use_mkcert=False)
    assert covers(moved.cert, [*names, "10.9.8.7"])
    assert not covers(cert_pem, ["10.9.8.7"])
    assert (tmp / "tls" / "ca.pem").read_bytes() == ca_before


def test_mkcert_signs_the_leaf_when_installed(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("mkcert") is None:
        pytest.skip("mkcert is not installed (optional: apt-get install mkcert)")
    from cryptography import x509

    monkeypatch.setenv("CAROOT", str(tmp_path / "caroot"))  # not the user's own mkcert CA
    names = ["localhost", "quest-host.local", "127.0.0.1", "192.0.2.9"]
    made = ensure_certificate(tmp_path / "data", names)
    assert made.issuer == "mkcert"
    assert made.ca == tmp_path / "caroot" / "rootCA.pem"
    leaf = x509.load_pem_x509_certificate(made.cert.read_bytes())
    leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(made.ca.read_bytes()))
    assert covers(made.cert, names)
    again = ensure_certificate(tmp_path / "data", names)  # kept, still mkcert's
    assert (again.issuer, again.cert.read_bytes()) == ("mkcert", made.cert.read_bytes())
    own = ensure_certificate(tmp_path / "data", names, use_mkcert=False)  # serve --own-ca
    assert own.issuer == "vrcollab"
    assert own.ca == tmp_path / "data" / "tls" / "ca.pem"


def test_tls_verifies_with_the_ca_and_not_without(https_server: HttpsServer) -> None:
    ok = ssl.create_default_context(cafile=str(https_server.ca))
    assert httpx.get(f"https://localhost:{https_server.port}/api/health", verify=ok).json()["ok"]
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"https://localhost:{https_server.port}/api/health")  # system roots only
    with pytest.raises(httpx.HTTPError):  # the HTTPS port speaks no plain HTTP
        httpx.get(f"http://127.0.0.1:{https_server.port}/api/health", timeout=5)


def test_plain_http_redirects_to_https(https_server: HttpsServer) -> None:
    r = httpx.get(f"http://127.0.0.1:{https_server.http_port}/r/r_x?invite=abc", timeout=5)
    assert r.status_code == 308
    assert r.headers["location"] == f"https://127.0.0.1:{https_server.port}/r/r_x?invite=abc"
    r = httpx.post(f"http://localhost:{https_server.http_port}/api/x", content=b"{}", timeout=5)
    assert r.status_code == 308  # keeps the method (not 301/302)
    assert r.headers["location"] == f"https://localhost:{https_server.port}/api/x"
    followed = httpx.get(f"http://127.0.0.1:{https_server.http_port}/api/health",
                         follow_redirects=True, timeout=5,
                         verify=ssl.create_default_context(cafile=str(https_server.ca)))
    assert followed.json()["ok"] is True


@pytest.mark.parametrize(("head", "target"), [
    (b"GET / HTTP/1.1\r\nHost: quest.local:8000\r\n\r\n", "https://quest.local:8443/"),
    (b"GET /a?b=c HTTP/1.0\r\n\r\n", "https://192.0.2.5:8443/a?b=c"),
    (b"GET / HTTP/1.1\r\nHost: [fe80::1]:8000\r\n\r\n", "https://[fe80::1]:8443/"),
    (b"GET / HTTP/1.1\r\nHost: evil\"<x>\r\n\r\n", "https://192.0.2.5:8443/"),
    (b"\x16\x03\x01\x00\xa5", None),
    (b"GET http://other/ HTTP/1.1\r\n\r\n", None),
])
def test_redirect_target(head: bytes, target: str | None) -> None:
    assert redirect_target(head, 8443, "192.0.2.5") == target


# --- printed links and the QR code ------------------------------------------------------------


def _printed_qr(log: str) -> tuple[str, str]:
    """(the URL the log says the QR opens, the URL the QR decodes to)."""
    from PIL import Image
    from pyzbar.pyzbar import decode

    lines = log.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("scan to open "))
    said = re.fullmatch(r"scan to open (\S+):", lines[start])
    assert said is not None
    block = []
    for line in lines[start + 1:]:
        if not line or set(line) - set("█▀▄ ") or (block and len(line) != len(block[0])):
            break
        block.append(line)
    matrix = qr_matrix("\n".join(block))
    scale = 6
    img = Image.new("L", (len(matrix[0]) * scale, len(matrix) * scale), 255)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                img.paste(0, (x * scale, y * scale, (x + 1) * scale, (y + 1) * scale))
    found = decode(img)
    assert len(found) == 1, "the printed QR code does not decode"
    return said.group(1), found[0].data.decode()


def _need_zbar() -> None:
    try:
        import pyzbar.pyzbar  # noqa: F401 - loads libzbar
    except (ImportError, OSError):
        pytest.skip("needs pyzbar and libzbar0 (./dev setup installs them)")


def test_printed_qr_decodes_to_the_printed_url(https_server: HttpsServer) -> None:
    _need_zbar()
    log = https_server.log()
    assert "0.0.0.0" not in log
    said, decoded = _printed_qr(log)
    assert decoded == said == f"https://127.0.0.1:{https_server.port}/"
    assert f"vrcollab serving on https://127.0.0.1:{https_server.port}/" in log
    assert f"plain http on port {https_server.http_port} redirects to https" in log


def test_wildcard_bind_prints_lan_addresses_and_localhost_never_0000() -> None:
    _need_zbar()
    local, lan = reachable_urls("0.0.0.0", 8443, https=True)
    assert local == "https://localhost:8443"
    assert all(u.startswith("https://") and "0.0.0.0" not in u for u in lan)
    assert reachable_urls("::", 80, https=False)[0] == "http://localhost"
    assert reachable_urls("192.168.1.20", 8000, https=False) == (
        "http://192.168.1.20:8000", ["http://192.168.1.20:8000"])
    url = (lan[0] if lan else local) + "/"
    from vrcollab.server.lan import announce

    text = announce(local, lan)
    assert "0.0.0.0" not in text
    assert _printed_qr(text) == (url, url)
    # with ANSI colours (a terminal) the same modules come back
    assert qr_matrix(terminal_qr(url, ansi=True)) == qr_matrix(terminal_qr(url))


def test_public_url_with_a_wildcard_is_refused(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "vrcollab.cli", "serve", "--no-demo",
                          "--data-dir", str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                         timeout=60, env={**clean_env(), "VRCOLLAB_PUBLIC_URL": "http://0.0.0.0:8000"})
    assert out.returncode == 2
    assert "names a wildcard address" in out.stderr


# --- the headset page -------------------------------------------------------------------------
