"""``vrcollab serve``: arguments -> settings -> :func:`vrcollab.server.serve.run`.

``--https`` (:mod:`vrcollab.server.tls`) serves HTTPS with a certificate kept in the data dir
and redirects plain HTTP; unless ``--no-demo``, the demo project, sample model and room link
(:mod:`vrcollab.demo`) are made first.
"""

from __future__ import annotations

import argparse

from vrcollab.cli.common import SubParsers, add_data_dir, settings_from
from vrcollab.demo import announce_demo
from vrcollab.server.lan import public_base
from vrcollab.server.serve import run
from vrcollab.server.tls import HTTP_PORT, HTTPS_PORT, add_https_arguments, certificate_from_args
from vrcollab.settings import load_settings


def add_serve_parser(sub: SubParsers) -> None:
    """``vrcollab serve [--host H] [--port P] [--data-dir D] [--https [--http-port P]]``."""
    p = sub.add_parser("serve", help="run the review server (HTTP + websocket rooms)")
    p.add_argument("--host", help="bind address (default 127.0.0.1; 0.0.0.0 for the LAN)")
    p.add_argument("--port", type=int, help=f"port (default {HTTP_PORT}; {HTTPS_PORT} with "
                   "--https)")
    p.add_argument("--no-demo", action="store_true", help="skip the demo project and sample")
    p.add_argument("--voice", choices=("mesh", "janus"),
                   help="voice transport (VRCOLLAB_VOICE); janus starts a local janus when "
                        "VRCOLLAB_VOICE_JANUS_URL is unset (docs/voice.md)")
    add_https_arguments(p)
    add_data_dir(p)
    p.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    if (args.https or args.cert) and args.port is None and load_settings().port == HTTP_PORT:
        args.port = HTTPS_PORT  # VRCOLLAB_PORT unset: HTTPS on 8443, HTTP 8000 redirects
    settings = settings_from(args)
    tls, http_port = certificate_from_args(args, settings.data_dir, settings.host, settings.port)
    # printed links (the demo's too): the LAN address or localhost, never a wildcard
    settings.public_url = public_base(settings.public_url, settings.host, settings.port,
                                      https=tls is not None)
    if not args.no_demo:  # demo project + sample model + room link (vrcollab.demo)
        announce_demo(settings)
    from vrcollab.voice.janus_process import serve_with_voice

    janus = serve_with_voice(settings, args.voice)
    try:
        run(settings, tls=tls, http_port=http_port)
    finally:
        if janus is not None:
            janus.stop()
    return 0
