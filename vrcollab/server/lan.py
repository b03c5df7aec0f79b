"""How others reach this server: its LAN names and addresses, the URLs to print, a terminal QR.

A wildcard bind (``--host 0.0.0.0`` or ``::``) is not an address anyone can open: the links
printed (and ``public_url`` when it is not set) use this machine's LAN address instead, and the
local URL uses ``localhost``. :func:`terminal_qr` draws a QR code of a URL with Unicode half
blocks, two modules per character cell, so a headset's camera can open the link.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import psutil

from vrcollab.errors import ConfigError
from vrcollab.settings import Settings

WILDCARDS = frozenset({"0.0.0.0", "::", ""})
#: top half dark, bottom half dark, both, neither (dark = a QR module)
_CELLS = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}
QUIET_ZONE = 4  # modules of light border the QR specification asks for


#: interfaces no other device reaches this machine through (containers, VM bridges)
_VIRTUAL = ("lo", "docker", "br-", "veth", "virbr", "cni", "flannel", "podman", "vmnet")


def _primary_address() -> str | None:
    """The source address of the default route (a UDP 'connect' sends no packet)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere real
            return str(s.getsockname()[0])
    except OSError:
        return None


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other devices can reach (no loopback, no link-local, no
    container bridges, interfaces that are up). The default route's address comes first, then
    private-range addresses (a home or office Wi-Fi).
    """
    stats = psutil.net_if_stats()
    primary = _primary_address()
    found: list[ipaddress.IPv4Address] = []
    for name, addrs in psutil.net_if_addrs().items():
        if name.startswith(_VIRTUAL) or (name in stats and not stats[name].isup):
            continue
        for addr in addrs:
            if addr.family != socket.AF_INET:
                continue
            ip = ipaddress.IPv4Address(addr.address)
            if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified):
                found.append(ip)
    unique = list(dict.fromkeys(found))
    unique.sort(key=lambda ip: (str(ip) != primary, not ip.is_private, int(ip)))
    return [str(ip) for ip in unique]


def machine_names() -> list[str]:
    """This machine's host name, its mDNS ``.local`` name, and ``localhost``."""
    host = socket.gethostname().strip().rstrip(".")
    names = [host, f"{host.split('.')[0]}.local"] if host and host != "localhost" else []
    return [*dict.fromkeys([*names, "localhost"])]


def certificate_names(host: str) -> list[str]:
    """What a certificate for a server bound to ``host`` must name."""
    names = [*machine_names(), "127.0.0.1", "::1", *lan_addresses()]
    if host not in WILDCARDS:
        names.insert(0, host)
    return [*dict.fromkeys(names)]


def _url(scheme: str, host: str, port: int) -> str:
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default = (scheme, port) in (("http", 80), ("https", 443))
    return f"{scheme}://{host}{'' if default else f':{port}'}"


def reachable_urls(host: str, port: int, *, https: bool) -> tuple[str, list[str]]:
    """(the local URL, the LAN URLs) for a server bound to ``host:port``; never a wildcard.

    A wildcard bind gives ``localhost`` and every LAN address; a concrete bind gives just
    that address (LAN URLs only when it is not a loopback address).
    """
    scheme = "https" if https else "http"
    if host in WILDCARDS:
        return _url(scheme, "localhost", port), [_url(scheme, a, port) for a in lan_addresses()]
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    url = _url(scheme, host, port)
    return url, ([] if loopback else [url])


def check_public_url(url: str) -> str:
    """``public_url`` as given, refusing a wildcard host that no browser can open."""
    if url and (urlsplit(url).hostname or "") in WILDCARDS | {"0.0.0.0"}:
        raise ConfigError(f"VRCOLLAB_PUBLIC_URL {url!r} names a wildcard address; use this "
                          "machine's LAN address or name (vrcollab serve prints them)")
    return url


_ANSI_ON, _ANSI_OFF = "\x1b[30;47m", "\x1b[0m"  # black on white, whatever the theme


def public_base(public_url: str, host: str, port: int, *, https: bool) -> str:
    """The base URL for printed links: ``public_url`` when set (never a wildcard), else the
    first LAN URL for a wildcard bind, else the bound address itself."""
    if check_public_url(public_url):
        return public_url
    local, lan = reachable_urls(host, port, https=https)
    return lan[0] if lan and host in WILDCARDS else local


def link_base(settings: Settings) -> str:
    """The base URL printed in offline links (``public_url``, else the bound host and port;
    never 0.0.0.0: that is a bind address, not a place)."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


def terminal_qr(data: str, *, ansi: bool = False) -> str:
    """A QR code of ``data`` as text: half blocks, dark modules drawn, a 4-module quiet zone.

    With ``ansi`` (a terminal) each line is drawn black on white, so the code has the right
    polarity on a dark theme too; without (a log file) it is plain text.
    """
    import segno

    qr = segno.make(data, error="m", micro=False)
    size = len(qr.matrix)
    full = size + 2 * QUIET_ZONE

    def dark(row: int, col: int) -> bool:
        r, c = row - QUIET_ZONE, col - QUIET_ZONE
        return 0 <= r < size and 0 <= c < size and bool(qr.matrix[r][c])

    rows = []
    for row in range(0, full, 2):
        rows.append("".join(_CELLS[(dark(row, col), dark(row + 1, col))] for col in range(full)))
    if ansi:
        rows = [f"{_ANSI_ON}{row}{_ANSI_OFF}" for row in rows]
    return "\n".join(rows)


def qr_matrix(text: str) -> list[list[bool]]:
    """The module matrix of a :func:`terminal_qr` drawing (quiet zone included): its inverse."""
    top = {v: k for k, v in _CELLS.items()}
    lines = text.replace(_ANSI_ON, "").replace(_ANSI_OFF, "").split("\n")
    width = max(len(line) for line in lines)
    matrix: list[list[bool]] = []
    for line in lines:
        cells = [top[ch] for ch in line.ljust(width)]
        matrix.append([t for t, _ in cells])
        matrix.append([b for _, b in cells])
    return matrix


def announce(local: str, lan: list[str], *, path: str = "/", ansi: bool = False,
             qr: bool = True) -> str:
    """The start-up text: where to open the app here and on the LAN, and (``qr``) a QR code of
    the first LAN URL (of the local one when there is no LAN URL)."""
    lines = [f"vrcollab serving on {local}{path}"]
    lines += [f"on the LAN (same Wi-Fi): {url}{path}" for url in lan]
    if qr:
        target = f"{lan[0] if lan else local}{path}"
        lines += [f"scan to open {target}:", terminal_qr(target, ansi=ansi)]
    return "\n".join(lines)
