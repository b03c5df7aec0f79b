"""One Settings object; the only reader of ``os.environ`` (prefix ``VRCOLLAB_``).

Sections are grouped by subsystem. Add fields to your own section; keep defaults safe for the
embedded single-process deployment (SQLite + local files).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``VRCOLLAB_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="VRCOLLAB_", extra="ignore", frozen=False)

    # --- storage -------------------------------------------------------------------------
    data_dir: Path = Field(default=Path("data"), description="SQLite database and asset files")
    database_url: str = Field(
        default="",
        description="'' = sqlite file in data_dir; 'memory://' for tests; postgresql://... later",
    )
    broker_url: str = Field(default="memory://", description="'memory://' or redis://...")

    # --- HTTP / websocket server ---------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = Field(default="", description="base URL printed in room links")
    secret_key: str = Field(default="", description="signs invite links; generated if empty")
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="websocket Origin allow-list; empty = same host as the server only",
    )
    max_message_bytes: int = 64 * 1024
    max_string_chars: int = 10_000
    rate_limit_per_second: float = 60.0
    rate_limit_burst: int = 120
    heartbeat_timeout_s: float = 30.0
    idle_timeout_s: float = 600.0
    tick_hz: float = 30.0
    snapshot_every_ops: int = 500
    max_send_queue: int = 1024
    replay_window: int = Field(default=10_000, description="commits kept for reconnect replay")
    sqlite_synchronous: str = Field(default="FULL", description="FULL (power-safe) or NORMAL")
    hello_timeout_s: float = 10.0
    auth_recheck_s: float = Field(default=30.0, description="re-check a session's token (4401)")

    # --- ingest --------------------------------------------------------------------------
    max_input_bytes: int = 512 * 1024 * 1024
    max_triangles: int = 20_000_000
    max_archive_ratio: float = 200.0
    max_archive_bytes: int = 2 * 1024 * 1024 * 1024

    # --- uploads and conversion jobs -----------------------------------------------------
    max_upload_bytes: int = 512 * 1024 * 1024
    job_timeout_s: float = 900.0
    job_workers: int = 1
    job_max_attempts: int = Field(default=2, description="runs of a job cut short by restarts")
    job_converter: str = Field(
        default="vrcollab.jobs.convert:convert_for_job",
        description="'module:function' run in the job subprocess (tests swap in failing ones)",
    )
    token: str = Field(default="", description="bearer token the CLI sends to a server (bcf)")

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        """Resolve once, so subprocesses (conversion jobs) with another cwd see the same files."""
        return value.expanduser().resolve()


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides winning."""
    return Settings(**overrides)  # type: ignore[arg-type]
