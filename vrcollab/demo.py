"""The demo bootstrap behind ``vrcollab serve``: a demo project with the bundled sample model.

:func:`ensure_demo` is idempotent: the project (``p_demo``), its owner, the model and the room
(``r_demo``) are created once; later starts reuse them (no duplicates). The first start converts
the sample model (from ``assets/``) through the normal job runner; if that fails, the room opens
without a model and the job keeps the error. Each call issues a fresh invite for the room link.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from vrcollab.errors import NotFoundError
from vrcollab.server.auth import bootstrap_project, issue_invite, secret_key
from vrcollab.server.room_models import room_model
from vrcollab.server.services import open_services
from vrcollab.settings import Settings

DEMO_PROJECT = "p_demo"
DEMO_ROOM = "r_demo"
DEMO_MODEL = "Sample model"
ASSETS = Path(__file__).resolve().parents[1] / "assets"
_PREFERENCE = (".ifc", ".step", ".stp", ".glb", ".obj", ".stl", ".ply", ".3mf", ".zip")
INVITE_SECONDS = 7 * 24 * 3600
DEMO_INVITE_USES = 50  # the printed demo link: a few browsers and headsets, not the world


@dataclass(frozen=True)
class Demo:
    """What the demo bootstrap made or found."""

    project_id: str
    room_id: str
    invite: str
    version_id: str | None
    status: str  # ready | failed | no sample model
    message: str

    def link(self, base_url: str) -> str:
        """The browser link that joins the demo room."""
        return f"{base_url.rstrip('/')}/r/{self.room_id}?invite={self.invite}"


def sample_model(folder: Path = ASSETS) -> Path | None:
    """The bundled sample model (first by format preference), if the repo ships one."""
    if not folder.is_dir():
        return None
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in _PREFERENCE]
    files.sort(key=lambda p: (_PREFERENCE.index(p.suffix.lower()), p.stat().st_size, p.name))
    return files[0] if files else None


def ensure_demo(settings: Settings, *, sample: Path | None = None,
                log: bool = True) -> Demo:
    """Create (once) the demo project, model version and room; return them with an invite."""
    sample = sample if sample is not None else sample_model()
    svc = open_services(settings)
    store = svc.store
    try:
        try:
            store.get_project(DEMO_PROJECT)
        except NotFoundError:
            bootstrap_project(store, "Demo", "Demo owner", project_id=DEMO_PROJECT)
        cat = svc.catalog
        model = cat.get_or_create_model(DEMO_PROJECT, DEMO_MODEL)
        versions = cat.list_versions(model.model_id)
        ready = [v for v in versions if v.status == "ready"]
        status, message = "no sample model", "no sample model found in assets/"
        if ready:
            status, message = "ready", f"{ready[-1].source_name} (version {ready[-1].number})"
        elif sample is not None:
            pending = [j for j in cat.list_jobs(project_id=DEMO_PROJECT)
                       if j.status in ("queued", "running")]
            if not pending:
                info = svc.assets.put_file(sample)
                version = cat.create_version(model.model_id, source_name=sample.name,
                                             source_sha256=info.sha256, source_bytes=info.size)
                pending = [svc.runner.submit(DEMO_PROJECT, version.version_id)]
            if log:
                print(f"converting the sample model {sample.name} ...", flush=True)
            started = time.monotonic()
            svc.runner.start()
            try:
                job = svc.runner.wait(pending[-1].job_id, settings.job_timeout_s + 30)
            finally:
                svc.runner.stop()
            if job.status == "done":
                version = cat.get_version(job.version_id)
                ready = [version]
                status = "ready"
                message = (f"{sample.name} converted in {time.monotonic() - started:.1f} s "
                           f"(version {version.number})")
            else:
                status, message = "failed", f"sample model conversion failed: {job.error}"
        try:
            room = store.get_room(DEMO_ROOM)
        except NotFoundError:
            room = store.create_room(DEMO_PROJECT, "Demo review", room_id=DEMO_ROOM)
        if ready and (room.model or {}).get("version_id") is None:
            store.set_room_model(DEMO_ROOM, room_model(svc, ready[-1]))
        invite, _, _ = issue_invite(store, secret_key(settings), DEMO_PROJECT, "editor",
                                    created_by=None, expires_in_s=INVITE_SECONDS,
                                    max_uses=DEMO_INVITE_USES, label="demo link")
        return Demo(DEMO_PROJECT, DEMO_ROOM, invite,
                    ready[-1].version_id if ready else None, status, message)
    finally:
        svc.close()


def announce_demo(settings: Settings) -> Demo:
    """:func:`ensure_demo`, then print the room link (what ``vrcollab serve`` shows)."""
    demo = ensure_demo(settings)
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    print(f"demo model: {demo.message}", flush=True)
    print(f"open the demo room: {demo.link(base)}", flush=True)
    return demo
