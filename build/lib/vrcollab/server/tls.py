"""HTTPS for headsets: a certificate for this machine's LAN names, and the HTTP -> HTTPS redirect.

WebXR needs a secure context, and a headset reaches the server by its LAN address, so
``vrcollab serve --https`` needs a certificate for those names. :func:`ensure_certificate`
makes one once and keeps it under ``<data_dir>/tls/``:

- with ``mkcert`` on PATH, a leaf signed by mkcert's local CA (``mkcert -CAROOT``), so browsers
  that trust that CA (``mkcert -install``) open it without a warning;
- otherwise a private CA of its own (``tls/ca.pem``, kept for ten years, so a headset that
  trusts it once keeps trusting new leaves) and a leaf signed by it (``cryptography``).

The leaf is made again when a name or address is missing from it (a new DHCP lease) or when it
expires within 30 days. :func:`start_redirect` is the small plain-HTTP listener that sends
every request to the same path on the HTTPS port (308, so methods and bodies are kept).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from vrcollab.errors import ConfigError

LEAF_DAYS = 397  # the longest lifetime browsers accept for a server certificate
CA_DAYS = 3650
RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True)
class Certificate:
    """A certificate and key on disk; ``ca`` is the root to trust (None: given by the user)."""

    cert: Path
    key: Path
    ca: Path | None
    issuer: str  # "vrcollab", "mkcert" or "given"


IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def _split(names: list[str]) -> tuple[list[str], list[IP]]:
    dns: list[str] = []
    ips: list[IP] = []
    for name in dict.fromkeys(names):
        try:
            ips.append(ipaddress.ip_address(name))
        except ValueError:
            dns.append(name)
    return dns, ips


def covers(cert_path: Path, names: list[str], *, now: dt.datetime | None = None) -> bool:
    """The certificate names every entry of ``names`` and is valid for 30 more days."""
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    now = now or dt.datetime.now(dt.UTC)
    if cert.not_valid_after_utc - now < RENEW_BEFORE or cert.not_valid_before_utc > now:
        return False
    dns, ips = _split(names)
    have_dns = {n.lower() for n in san.get_values_for_type(x509.DNSName)}
    have_ips = set(san.get_values_for_type(x509.IPAddress))
    return {n.lower() for n in dns} <= have_dns and set(ips) <= have_ips


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def _own_ca(folder: Path) -> tuple[object, object]:
    """The private CA under ``folder`` (made on first use): (certificate, private key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    ca_pem, ca_key_pem = folder / "ca.pem", folder / "ca-key.pem"
    if ca_pem.is_file() and ca_key_pem.is_file():
        ca = x509.load_pem_x509_certificate(ca_pem.read_bytes())
        if ca.not_valid_after_utc - dt.datetime.now(dt.UTC) > RENEW_BEFORE:
            return ca, serialization.load_pem_private_key(ca_key_pem.read_bytes(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vrcollab"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "vrcollab local CA")])
    now = dt.datetime.now(dt.UTC)
    ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
          .public_key(key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=CA_DAYS))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                         critical=False)
          .sign(key, hashes.SHA256()))
    _write_private(ca_key_pem, key.private_bytes(serialization.Encoding.PEM,
                                                 serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return ca, key


def _own_leaf(folder: Path, names: list[str]) -> Certificate:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca, ca_key = _own_ca(folder)
    assert isinstance(ca, x509.Certificate)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    dns, ips = _split(names)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
            .add_extension(x509.SubjectAlternativeName(
                [*(x509.DNSName(n) for n in dns), *(x509.IPAddress(i) for i in ips)]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert, key_path = folder / "cert.pem", folder / "key.pem"
    _write_private(key_path, key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    # the chain: leaf then CA, so a client that was given only the CA can verify it
    cert.write_bytes(leaf.public_bytes(serialization.Encoding.PEM)
                     + ca.public_bytes(serialization.Encoding.PEM))
    (folder / "issuer").write_text("vrcollab\n")
    return Certificate(cert, key_path, folder / "ca.pem", "vrcollab")


def _mkcert_leaf(mkcert: str, folder: Path, names: list[str]) -> Certificate:
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        subprocess.run([mkcert, "-cert-file", str(cert), "-key-file", str(key), *names],
                       check=True, capture_output=True, timeout=60)
        caroot = subprocess.run([mkcert, "-CAROOT"], check=True, capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfigError(f"mkcert failed to make a certificate: {exc}") from exc
    (folder / "issuer").write_text(f"mkcert {caroot}\n")
    return Certificate(cert, key, Path(caroot) / "rootCA.pem", "mkcert")


def _kept(folder: Path, names: list[str]) -> Certificate | None:
    cert, key, issuer = folder / "cert.pem", folder / "key.pem", folder / "issuer"
    if not (cert.is_file() and key.is_file() and issuer.is_file() and covers(cert, names)):
        return None
    kind, _, caroot = issuer.read_text().strip().partition(" ")
    if kind == "mkcert":
        return Certificate(cert, key, Path(caroot) / "rootCA.pem", "mkcert")
    return Certificate(cert, key, folder / "ca.pem", "vrcollab")


def ensure_certificate(data_dir: Path, names: list[str], *,
                       use_mkcert: bool = True) -> Certificate:
    """The certificate under ``<data_dir>/tls`` for ``names`` (DNS names and IP addresses).

    Kept from an earlier start when it still covers every name for 30 more days; otherwise
    made again (by mkcert when installed and ``use_mkcert``, else by the private CA).
    """
    if not names:
        raise ConfigError("a certificate needs at least one name or address")
    folder = Path(data_dir) / "tls"
    folder.mkdir(parents=True, exist_ok=True)
    kept = _kept(folder, names)
    if kept is not None:
        return kept
    mkcert = shutil.which("mkcert") if use_mkcert else None
    if mkcert:
        return _mkcert_leaf(mkcert, folder, names)
    return _own_leaf(folder, names)


def given_certificate(cert: Path, key: Path) -> Certificate:
    """``--cert/--key``: both files must exist (uvicorn reads them at start-up)."""
    for path in (cert, key):
        if not Path(path).is_file():
            raise ConfigError(f"TLS file not found: {path}")
    return Certificate(Path(cert), Path(key), None, "given")


# --- HTTP -> HTTPS ------------------------------------------------------------------------------

_MAX_HEAD = 16 * 1024


def redirect_target(request_head: bytes, https_port: int, fallback_host: str) -> str | None:
    """The ``https://`` URL for a plain-HTTP request head, or None when it is not HTTP/1.x."""
    lines = request_head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[1].startswith("/"):
        return None
    host = fallback_host
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "host" and value.strip():
            host = value.strip()
            break
    if host.startswith("["):  # [v6]:port
        host = host[: host.index("]") + 1] if "]" in host else fallback_host
    else:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if not all(c.isalnum() or c in "-.[]:" for c in host):
        host = fallback_host
    port = "" if https_port == 443 else f":{https_port}"
    return f"https://{host}{port}{parts[1]}"


async def _redirect_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        https_port: int, fallback_host: str) -> None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10.0)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
            ConnectionError):
        writer.close()
        return
    target = redirect_target(head[:_MAX_HEAD], https_port, fallback_host)
    if target is None:
        body = b"bad request\n"
        status = b"400 Bad Request"
        extra = b""
    else:
        body = f"moved to {target}\n".encode()
        status = b"308 Permanent Redirect"
        extra = b"Location: " + target.encode("latin-1") + b"\r\n"
    writer.write(b"HTTP/1.1 " + status + b"\r\n" + extra
                 + b"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    try:
        await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def start_redirect(host: str, port: int, https_port: int,
                         fallback_host: str) -> asyncio.Server:
    """Listen on ``host:port`` for plain HTTP and answer every request with a 308 to HTTPS."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _redirect_one(reader, writer, https_port, fallback_host)

    try:
        return await asyncio.start_server(handle, host, port, limit=_MAX_HEAD)
    except OSError as exc:
        raise ConfigError(f"cannot listen for the HTTP redirect on {host}:{port}: {exc}; "
                          "choose another --http-port (0 turns the redirect off)") from exc
