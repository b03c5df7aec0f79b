"""What the subcommands share: the subparsers type, ``--data-dir`` and settings from arguments."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vrcollab.settings import Settings, load_settings

SubParsers = Any  # argparse._SubParsersAction (private type)


def add_data_dir(p: argparse.ArgumentParser) -> None:
    """The ``--data-dir`` option of every offline subcommand."""
    p.add_argument("--data-dir", dest="data_dir", type=Path,
                   help="database and files (default: VRCOLLAB_DATA_DIR or ./data)")


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with ``--host``, ``--port`` and ``--data-dir`` on top."""
    overrides: dict[str, object] = {}
    for key in ("host", "port", "data_dir"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    return load_settings(**overrides)
