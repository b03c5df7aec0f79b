"""One Settings object; the only reader of ``os.environ`` (prefix ``VRCOLLAB_``).

Sections are grouped by subsystem. Add fields to your own section; keep defaults safe for the
embedded single-process deployment (SQLite + local files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``VRCOLLAB_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="VRCOLLAB_", extra="ignore", frozen=False)

    # --- storage -------------------------------------------------------------------------
    data_dir: Path = Field(default=Path("data"), description="SQLite database and asset files")
    database_url: str = Field(
        default="",
        description="'' = sqlite file in data_dir; sqlite:///path; 'memory://' for tests; "
        "postgresql://... (vrcollab.store.factory)",
    )
    broker_url: str = Field(default="memory://", description="'memory://' or redis://...")
    cluster_lease_ms: int = Field(
        default=3000, description="room ownership lease (redis broker); failover within this")
    cluster_stream_maxlen: int = Field(
        default=10_000, description="entries kept per room stream (redis broker)")
    assets_dir: Path | None = Field(
        default=None, description="content-addressed blobs; default data_dir/assets (several "
        "server processes share one directory here)")

    # --- meetings (vrcollab.meetings, docs/meetings.md) -----------------------------------
    meeting_pose_hz: float = Field(default=5.0, gt=0, le=30,
                                   description="pose samples per participant and second")
    meeting_chunk_s: float = Field(default=10.0, gt=0, description="seconds per log chunk")
    meeting_state_every_s: float = Field(
        default=60.0, ge=0, description="room-state keyframe at most this often (if changed)")
    meeting_purge_every_s: float = Field(default=3600.0, gt=0,
                                         description="how often the retention purge runs")
    meetings_dir: Path | None = Field(
        default=None, description="meeting recordings; default data_dir/meetings (several "
        "server processes share one directory here, like assets_dir)")

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
    member_rate_limit_per_second: float = Field(
        default=120.0, description="messages/s of one member over all its sessions (R3)")
    member_rate_limit_burst: int = 240
    max_sessions_per_member: int = Field(default=16, description="more closes with 4409 (R3)")
    room_max_comments_per_annotation: int = Field(
        default=1_000, description="per-room limit (R20; room_max_* below are shared with import)")
    welcome_part_bytes: int = Field(default=256 * 1024,
                                    description="welcomes larger than this are paged (R6)")
    heartbeat_timeout_s: float = 30.0
    idle_timeout_s: float = 600.0
    tick_hz: float = 30.0
    snapshot_every_ops: int = 500
    max_send_queue: int = 1024
    replay_window: int = Field(default=10_000, description="commits kept for reconnect replay")
    sqlite_synchronous: str = Field(default="FULL", description="FULL (power-safe) or NORMAL")
    hello_timeout_s: float = 10.0
    auth_recheck_s: float = Field(default=30.0, description="re-check a session's token (4401)")
    auth_max_failures: int = Field(
        default=10, description="failed sign-ins / invite uses per address and window (429)")
    auth_failure_window_s: float = Field(default=300.0, description="window of auth_max_failures")

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
    job_lease_s: float = Field(
        default=30.0, description="a running job's lease, renewed every third of it; a job "
        "whose worker stops renewing (crash, kill -9) is retried by any process after it")
    job_converter: str = Field(
        default="vrcollab.jobs.convert:convert_for_job",
        description="'module:function' run in the job subprocess (tests swap in failing ones)",
    )
    token: str = Field(default="", description="bearer token the CLI sends to a server (bcf)")

    # --- per-room limits on BCF import (issue 8; 413 with the setting's name) -------------
    room_max_annotations: int = Field(default=2000, description="annotations per room")
    room_max_comments: int = Field(default=10_000, description="comments per room, all told")
    room_max_annotation_bytes: int = Field(
        default=8 * 1024 * 1024, description="JSON bytes of a room's annotations and comments")
    bcf_import_max_ops: int = Field(default=500, description="topics + comments per BCF import")
    bcf_max_stash_bytes: int = Field(
        default=64 * 1024, description="per topic: the original BCF kept for lossless re-export")

    # --- per-project quotas (issue 8; vrcollab.jobs.quotas) -------------------------------
    project_max_storage_bytes: int = Field(
        default=20 * 1024 * 1024 * 1024, description="uploads + converted files; 413 beyond")
    project_max_active_jobs: int = Field(
        default=4, description="queued + running conversions per project; 429 beyond")

    # --- HTTP edge (issue 8): timeouts, connection caps, header and body bounds ------------
    header_timeout_s: float = Field(
        default=10.0, description="a request head must arrive within this (idle and slowloris)")
    keep_alive_timeout_s: int = Field(default=5, description="idle keep-alive connections close")
    request_idle_timeout_s: float = Field(
        default=60.0, description="a request whose body or response stops moving is closed")
    max_connections: int = Field(
        default=2000, description="open connections in all (HTTP + websocket); 503 beyond")
    max_connections_per_address: int = Field(
        default=100, description="open connections from one client address; 429 beyond")
    max_header_bytes: int = Field(default=32 * 1024, description="request head size; 431 beyond")
    max_headers: int = Field(default=100, description="header fields per request; 431 beyond")
    max_json_body_bytes: int = Field(
        default=1024 * 1024, description="application/json request bodies; 413 beyond")

    # --- voice (issue 13; docs/voice.md) --------------------------------------------------
    voice: str = Field(default="mesh", description="'mesh' (peer-to-peer, <= 6) or 'janus' (SFU)")
    voice_viewers_may_speak: bool = Field(
        default=False, description="viewers may publish audio (else they listen only); "
        "the default for projects that did not choose (PATCH /api/projects/{id}/settings)")
    voice_mesh_max_peers: int = Field(default=6, description="people in one room's mesh voice")
    voice_ice_servers: list[dict[str, Any]] = Field(
        default_factory=list,
        description='RTCIceServer list as JSON, e.g. [{"urls":"turn:turn.example:3478",'
                    '"username":"u","credential":"p"}] (coturn)')
    voice_janus_url: str = Field(default="", description="Janus HTTP API the server uses")
    voice_janus_public_url: str = Field(
        default="", description="Janus HTTP API as browsers reach it ('' = voice_janus_url)")
    voice_janus_api_secret: str = Field(default="", description="Janus api_secret (server only)")
    voice_janus_token_secret: str = Field(
        default="", description="Janus token_auth_secret: signs the browsers' join tokens")
    voice_token_ttl_s: float = Field(default=300.0, description="life of a Janus join token")

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        """Resolve once, so subprocesses (conversion jobs) with another cwd see the same files."""
        return value.expanduser().resolve()

    @field_validator("assets_dir", "meetings_dir")
    @classmethod
    def _absolute_assets_dir(cls, value: Path | None) -> Path | None:
        """Resolved like ``data_dir``."""
        return None if value is None else value.expanduser().resolve()

    @property
    def assets_path(self) -> Path:
        """Where the asset store lives: ``assets_dir`` or ``data_dir/assets``."""
        return self.assets_dir if self.assets_dir is not None else self.data_dir / "assets"

    @property
    def meetings_path(self) -> Path:
        """Where meeting recordings live: ``meetings_dir`` or ``data_dir/meetings``."""
        return self.meetings_dir if self.meetings_dir is not None else self.data_dir / "meetings"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides winning."""
    return Settings(**overrides)  # type: ignore[arg-type]
