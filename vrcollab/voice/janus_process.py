"""Run Debian's ``janus`` for trying the SFU locally (``vrcollab serve --voice janus``) and for
the tests: a minimal configuration (VideoRoom plugin and HTTP transport only, bound to
127.0.0.1, API secret and signed tokens) written into a data directory.

Production deployments run Janus as a service of their own (docs/voice.md); this is only the
embedded way to try it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from vrcollab.errors import VrcollabError
from vrcollab.settings import Settings

JANUS_BIN = "janus"
LIB_DIRS = ("/usr/lib/x86_64-linux-gnu/janus", "/usr/lib/aarch64-linux-gnu/janus",
            "/usr/lib/janus", "/opt/janus/lib/janus")


class JanusNotInstalledError(VrcollabError):
    """``janus`` (Debian package ``janus``) is not installed."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lib_dir() -> Path:
    for d in LIB_DIRS:
        if (Path(d) / "plugins" / "libjanus_videoroom.so").exists():
            return Path(d)
    raise JanusNotInstalledError("janus VideoRoom plugin not found (apt-get install janus)")


@dataclass(frozen=True, slots=True)
class JanusConfig:
    """What the vrcollab server needs to use a running Janus."""

    url: str
    api_secret: str
    token_secret: str

    def env(self) -> dict[str, str]:
        """The ``VRCOLLAB_*`` variables that point a vrcollab server at this Janus."""
        return {"VRCOLLAB_VOICE": "janus", "VRCOLLAB_VOICE_JANUS_URL": self.url,
                "VRCOLLAB_VOICE_JANUS_API_SECRET": self.api_secret,
                "VRCOLLAB_VOICE_JANUS_TOKEN_SECRET": self.token_secret}


def write_config(folder: Path, *, http_port: int, api_secret: str, token_secret: str,
                 rtp_ports: tuple[int, int] = (20000, 40000)) -> Path:
    """A minimal Janus configuration in ``folder`` (only VideoRoom and HTTP are loaded:
    ``plugins``/``transports`` hold links to just those two libraries)."""
    lib = _lib_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for kind, name in (("plugins", "libjanus_videoroom.so"), ("transports", "libjanus_http.so")):
        d = folder / kind
        d.mkdir(exist_ok=True)
        link = d / name
        if not link.exists():
            link.symlink_to(lib / kind / name)
    for kind in ("events", "loggers"):
        (folder / kind).mkdir(exist_ok=True)
    (folder / "janus.jcfg").write_text(f"""general: {{
	configs_folder = "{folder}"
	plugins_folder = "{folder / 'plugins'}"
	transports_folder = "{folder / 'transports'}"
	events_folder = "{folder / 'events'}"
	loggers_folder = "{folder / 'loggers'}"
	log_to_stdout = true
	debug_level = 4
	api_secret = "{api_secret}"
	token_auth = true
	token_auth_secret = "{token_secret}"
	session_timeout = 60
	reclaim_session_timeout = 0
}}
media: {{
	rtp_port_range = "{rtp_ports[0]}-{rtp_ports[1]}"
}}
nat: {{
	ice_enforce_list = "127.0.0.1"
	ice_tcp = false
	full_trickle = false
}}
""")
    (folder / "janus.plugin.videoroom.jcfg").write_text("general: {\n}\n")
    (folder / "janus.transport.http.jcfg").write_text(f"""general: {{
	json = "compact"
	base_path = "/janus"
	http = true
	port = {http_port}
	ip = "127.0.0.1"
	https = false
}}
admin: {{
	admin_http = false
}}
cors: {{
	allow_origin = "*"
}}
""")
    return folder / "janus.jcfg"


class JanusProcess:
    """A ``janus`` subprocess on 127.0.0.1 with a config of its own (tests, ``serve``)."""

    def __init__(self, folder: Path, *, http_port: int | None = None) -> None:
        if shutil.which(JANUS_BIN) is None:
            raise JanusNotInstalledError("janus is not installed (apt-get install janus)")
        self.folder = folder
        self.http_port = http_port or _free_port()
        self.config = JanusConfig(f"http://127.0.0.1:{self.http_port}/janus",
                                  secrets.token_urlsafe(18), secrets.token_urlsafe(18))
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = folder / "janus.log"

    def start(self, timeout: float = 30.0) -> JanusConfig:
        """Write the config, start janus and wait until its HTTP API answers."""
        cfg = write_config(self.folder, http_port=self.http_port,
                           api_secret=self.config.api_secret,
                           token_secret=self.config.token_secret)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [JANUS_BIN, "-C", str(cfg), "-F", str(self.folder)],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise VrcollabError(f"janus exited ({self.proc.returncode}); see {self.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.config.url}/info", timeout=1.0).status_code == 200:
                    return self.config
            time.sleep(0.2)
        self.stop()
        raise VrcollabError(f"janus did not answer within {timeout} s; see {self.log_path}")

    def stop(self) -> None:
        """Terminate janus (kill after 10 s)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def log(self) -> str:
        """What janus printed so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def serve_with_voice(settings: Settings, voice: str | None) -> JanusProcess | None:
    """``vrcollab serve --voice MODE``: set the voice mode; for ``janus`` without a configured
    ``VRCOLLAB_VOICE_JANUS_URL``, start a local janus (config under ``data_dir/janus``) and
    point the settings at it. The caller stops the returned process."""
    if voice is None:
        return None
    settings.voice = voice
    if voice != "janus" or settings.voice_janus_url:
        return None
    proc = JanusProcess(settings.data_dir / "janus")
    cfg = proc.start()
    settings.voice_janus_url = cfg.url
    settings.voice_janus_api_secret = cfg.api_secret
    settings.voice_janus_token_secret = cfg.token_secret
    print(f"==> janus (VideoRoom, audio) on {cfg.url}; log {proc.log_path}", flush=True)
    return proc
