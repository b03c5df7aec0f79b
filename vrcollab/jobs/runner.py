"""The conversion job runner: a dispatcher thread and one killable subprocess per running job.

Jobs live in the catalog, so they survive restarts, and any number of server processes sharing
one database (Postgres, or one SQLite file) run them from one queue. A claim takes a lease
(``lease_s``) under this runner's :attr:`JobRunner.worker_id`; the dispatcher renews the leases
of its running jobs every third of it. :meth:`JobRunner.recover` (at :meth:`start`, then
every half lease) takes over jobs whose worker is gone: a lease past its end, a worker process
on this host that no longer exists, or a job claimed without a lease. It puts them back in the
queue, or fails them with a message once they have used ``max_attempts`` (a model that kills
the server is not retried forever). Every such change is a compare-and-set on (status,
worker), so of two processes recovering one job only one wins, and a worker that lost its
lease stops its conversion instead of finishing a job another process now owns.

Each job runs in a fresh interpreter (``python -m vrcollab.jobs.worker``, its
own session); on ``timeout_s`` the process and all its children are killed and the job fails
with a message. A crash of the subprocess (signal, out of memory) fails only that job.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

from vrcollab.assets import AssetStore
from vrcollab.errors import VrcollabError
from vrcollab.ingest.layout import output_files, safe_relative
from vrcollab.jobs.events import JobEvents
from vrcollab.store.catalog import Catalog, JobRecord, VersionFile, VersionRecord

DEFAULT_CONVERTER = "vrcollab.jobs.convert:convert_for_job"
CONTENT_TYPES = {".json": "application/json", ".glb": "model/gltf-binary",
                 ".gltf": "model/gltf+json", ".png": "image/png", ".jpg": "image/jpeg",
                 ".bin": "application/octet-stream"}

DoneHook = Callable[[JobRecord, VersionRecord], None]
log = logging.getLogger("vrcollab.jobs")


@dataclass
class _Active:
    job: JobRecord
    proc: subprocess.Popen[bytes]
    pipe: IO[bytes]
    workdir: Path
    deadline: float
    result: list[Any] | None = None
    buffer: bytearray = field(default_factory=bytearray)


def kill_tree(pid: int) -> None:
    """Kill a process and all its descendants (SIGKILL)."""
    try:
        parent = psutil.Process(pid)
        procs = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        return
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(procs, timeout=5)


class JobRunner:
    """Runs queued conversion jobs from the catalog in subprocesses."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        assets: AssetStore,
        work_dir: Path,
        timeout_s: float,
        workers: int = 1,
        converter: str = DEFAULT_CONVERTER,
        options: dict[str, Any] | None = None,
        events: JobEvents | None = None,
        max_attempts: int = 2,
        on_done: DoneHook | None = None,
        lease_s: float = 30.0,
    ) -> None:
        self.catalog = catalog
        self.assets = assets
        self.work_dir = Path(work_dir)
        self.timeout_s = timeout_s
        self.workers = max(1, workers)
        self.converter = converter
        self.options = dict(options or {})
        self.events = events or JobEvents()
        self.max_attempts = max_attempts
        self.on_done: list[DoneHook] = [on_done] if on_done else []
        self.lease_s = max(1.0, lease_s)
        self.worker_id = worker_id()
        self._next_renew = 0.0
        self._next_recover = 0.0
        self._unwatch: Callable[[], None] | None = None
        self._active: dict[str, _Active] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cancel_lock = threading.Lock()
        self._cancels: set[str] = set()

    # --- lifecycle ------------------------------------------------------------------------
    def recover(self) -> list[JobRecord]:
        """Re-queue (or fail) running jobs whose worker is gone; returns them."""
        changed = []
        now = time.time()
        for job in self.catalog.list_jobs(statuses=("running",)):
            if job.job_id in self._active or not worker_gone(job, now, self.worker_id):
                continue
            if job.attempts >= self.max_attempts:
                done = self._fail(job, "interrupted", (
                    f"the server stopped during this conversion {job.attempts} times; "
                    "not retrying"
                ))
            else:
                done = self._update_if(job, status="queued", stage="queued (resumed after "
                                       "restart)", percent=0.0, worker=None, lease_until=None)
            if done is not None:
                changed.append(done)
        self._next_recover = time.monotonic() + self.lease_s / 2
        return changed

    def start(self) -> None:
        """Recover interrupted jobs and start the dispatcher thread."""
        if self._thread is not None:
            return
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.recover()
        running = {j.job_id for j in self.catalog.list_jobs(statuses=("running",))}
        for leftover in self.work_dir.iterdir():  # work dirs of jobs a crash interrupted
            if leftover.is_dir() and leftover.name not in running:  # not another process's
                shutil.rmtree(leftover, ignore_errors=True)
        self._stop.clear()
        self._unwatch = self.catalog.watch_jobs(self._changed_elsewhere)
        self._thread = threading.Thread(target=self._loop, name="vrcollab-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop dispatching; kill running conversions and put their jobs back in the queue."""
        self._stop.set()
        self._wake.set()
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        for active in list(self._active.values()):
            self._discard(active)
            with contextlib.suppress(VrcollabError):
                self._update_if(active.job, status="queued", stage="queued (server restarted)",
                                percent=0.0, attempts=max(0, active.job.attempts - 1),
                                worker=None, lease_until=None)
        self._active.clear()

    def submit(self, project_id: str, version_id: str) -> JobRecord:
        """Queue a conversion of a version and wake the dispatcher."""
        job = self.catalog.create_job(project_id, version_id)
        self.events.publish(job)
        self._wake.set()
        return job

    def cancel(self, job_id: str) -> None:
        """Ask the dispatcher to stop a queued or running job (it fails with ``cancelled``)."""
        with self._cancel_lock:
            self._cancels.add(job_id)
        self._wake.set()

    def _apply_cancels(self) -> None:
        with self._cancel_lock:
            wanted, self._cancels = self._cancels, set()
        for job_id in wanted:
            active = self._active.pop(job_id, None)
            if active is not None:
                self._discard(active)
                self._fail(active.job, "cancelled", "the conversion was cancelled")
                continue
            with contextlib.suppress(VrcollabError):
                job = self.catalog.get_job(job_id)
                if job.status in ("queued", "running"):  # running: in another process, whose
                    self._fail(job, "cancelled",  # next lease renewal then stops it
                               "the conversion was cancelled")

    def wait(self, job_id: str, timeout: float) -> JobRecord:
        """Block until a job is done or failed (for the CLI and tests)."""
        end = time.monotonic() + timeout
        while True:
            job = self.catalog.get_job(job_id)
            if job.status in ("done", "failed") or time.monotonic() > end:
                return job
            time.sleep(0.05)

    # --- dispatcher -----------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._apply_cancels()
                self._keep_leases()
                while len(self._active) < self.workers and not self._stop.is_set():
                    job = self.catalog.claim_next_job(worker=self.worker_id,
                                                      lease_s=self.lease_s)
                    if job is None:
                        break
                    try:
                        self._launch(job)
                    except Exception as exc:  # never let one job stop the dispatcher
                        log.exception("cannot start job %s", job.job_id)
                        self._fail(job, "start_failed", f"cannot start the conversion: {exc}")
                for active in list(self._active.values()):
                    if self._poll(active):
                        del self._active[active.job.job_id]
            except Exception:  # a store hiccup: retry on the next tick
                log.exception("job dispatcher error")
            self._wake.wait(0.05 if self._active else 1.0)
            self._wake.clear()

    def _changed_elsewhere(self, job_id: str) -> None:
        """A job row was written (by any process): relay it to our subscribers, and look for
        work (a job queued through another process)."""
        if job_id in self._active:
            return  # ours: published where it changed
        if len(self._active) < self.workers:
            self._wake.set()
        if self.events.wanted(job_id):
            with contextlib.suppress(VrcollabError):
                self.events.publish(self.catalog.get_job(job_id))

    def _keep_leases(self) -> None:
        """Renew our running jobs' leases; drop the ones we lost; recover orphans."""
        now = time.monotonic()
        if now >= self._next_renew:
            self._next_renew = now + self.lease_s / 3
            for active in list(self._active.values()):
                kept = self.catalog.update_job_if(
                    active.job.job_id, when_status="running", when_worker=self.worker_id,
                    lease_until=time.time() + self.lease_s)
                if kept is None:  # cancelled elsewhere, or recovered after a stall
                    log.warning("job %s is no longer ours; stopping it", active.job.job_id)
                    self._active.pop(active.job.job_id, None)
                    self._discard(active)
        if now >= self._next_recover:
            for job in self.recover():
                log.info("job %s recovered from a gone worker: %s", job.job_id, job.status)

    def _launch(self, job: JobRecord) -> None:
        self.events.publish(job)
        workdir = self.work_dir / job.job_id
        shutil.rmtree(workdir, ignore_errors=True)
        try:
            version = self.catalog.get_version(job.version_id)
            source = workdir / "in" / safe_name(version.source_name)
            source.parent.mkdir(parents=True)
            (workdir / "out").mkdir()
            blob = self.assets.open_path(version.source_sha256)
            try:
                os.link(blob, source)
            except OSError:
                shutil.copyfile(blob, source)
        except (VrcollabError, OSError) as exc:
            self._fail(job, "source_missing", f"cannot prepare the uploaded file: {exc}")
            shutil.rmtree(workdir, ignore_errors=True)
            return
        read_fd, write_fd = os.pipe()
        spec = {"converter": self.converter, "source": str(source),
                "outdir": str(workdir / "out"), "options": self.options,
                "sys_path": [p or os.getcwd() for p in sys.path], "fd": write_fd}
        try:
            with (workdir / "stderr.txt").open("wb") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "vrcollab.jobs.worker"], stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL, stderr=err, pass_fds=(write_fd,),
                    start_new_session=True, cwd=workdir,
                )
        finally:
            os.close(write_fd)
        os.set_blocking(read_fd, False)
        pipe = os.fdopen(read_fd, "rb", buffering=0)
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write(json.dumps(spec).encode())
            proc.stdin.close()
        self._active[job.job_id] = _Active(
            job, proc, pipe, workdir, time.monotonic() + self.timeout_s
        )
        self._update(job.job_id, stage="starting", percent=0.0)

    def _poll(self, active: _Active) -> bool:
        """Drain messages, enforce the deadline; True when the job is finished."""
        self._drain(active)
        if active.result is None and active.proc.poll() is None:
            if time.monotonic() < active.deadline:
                return False
            self._discard(active)
            self._fail(active.job, "timeout", (
                f"the conversion took longer than {self.timeout_s:g} s and was stopped"
            ))
            return True
        if active.result is None:
            self._drain(active)
        if active.result is None:
            tail = _tail(active.workdir / "stderr.txt")
            self._discard(active)
            self._fail(active.job, "crash", (
                f"the conversion process crashed ({describe_exit(active.proc.returncode)})"
                + (f": {tail}" if tail else "")
            ))
            return True
        with contextlib.suppress(subprocess.TimeoutExpired):
            active.proc.wait(timeout=10)
        if active.result[0] == "done":
            self._complete(active, dict(active.result[1]))
        else:
            self._fail(active.job, str(active.result[1]), str(active.result[2]))
        self._discard(active)
        return True

    def _complete(self, active: _Active, elements: dict[str, str]) -> None:
        job = active.job
        out = active.workdir / "out"
        try:
            manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            names = output_files(out, manifest)
            files = []
            for name in names:
                path = out / name
                if (not safe_relative(name, manifest) or not path.is_file()):
                    raise VrcollabError(f"conversion output is missing {name!r}")
                info = self.assets.put_file(path)
                kind = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
                files.append(VersionFile(job.version_id, name, info.sha256, info.size, kind))
            manifest_sha = next(f.sha256 for f in files if f.path == "manifest.json")
            version = self.catalog.finish_version(
                job.version_id, manifest_sha256=manifest_sha, files=files, elements=elements
            )
        except (VrcollabError, OSError, ValueError, KeyError, TypeError) as exc:
            self._fail(job, "bad_output", f"the conversion output is unusable: {exc}")
            return
        done = self._update_if(job, status="done", stage="done", percent=100.0,
                               finished=time.time(), lease_until=None)
        if done is None:
            log.warning("job %s finished after another process took it over", job.job_id)
            return
        for hook in self.on_done:
            with contextlib.suppress(Exception):
                hook(done, version)

    def _drain(self, active: _Active) -> None:
        """Read what the child wrote so far and act on complete lines."""
        while active.result is None:
            try:
                chunk = active.pipe.read(65536)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            active.buffer += chunk
            while b"\n" in active.buffer and active.result is None:
                line, _, rest = bytes(active.buffer).partition(b"\n")
                active.buffer = bytearray(rest)
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if msg[0] == "progress":
                    self._update(active.job.job_id, stage=str(msg[1]), percent=float(msg[2]))
                else:
                    active.result = msg

    def _discard(self, active: _Active) -> None:
        if active.proc.poll() is None:
            kill_tree(active.proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            active.proc.wait(timeout=5)
        with contextlib.suppress(OSError):
            active.pipe.close()
        shutil.rmtree(active.workdir, ignore_errors=True)

    def _fail(self, job: JobRecord, code: str, message: str) -> JobRecord | None:
        """Fail a job we hold (or a queued one); None when another process holds it now."""
        failed = self._update_if(job, status="failed", error=message, error_code=code,
                                 finished=time.time(), lease_until=None)
        if failed is not None:
            with contextlib.suppress(VrcollabError):
                self.catalog.fail_version(job.version_id)
        return failed

    def _update(self, job_id: str, **changes: Any) -> JobRecord:
        job = self.catalog.update_job(job_id, **changes)
        self.events.publish(job)
        return job

    def _update_if(self, job: JobRecord, **changes: Any) -> JobRecord | None:
        """Change a job only while it is as ``job`` says (status, worker); publish it."""
        done = self.catalog.update_job_if(job.job_id, when_status=job.status,
                                          when_worker=job.worker, **changes)
        if done is not None:
            self.events.publish(done)
        return done


def worker_id() -> str:
    """This process as a job worker: ``host/pid/start time/random``."""
    try:
        started = f"{psutil.Process().create_time():.3f}"
    except psutil.Error:
        started = "0"
    return f"{socket.gethostname()}/{os.getpid()}/{started}/{secrets.token_hex(3)}"


def worker_gone(job: JobRecord, now: float, me: str) -> bool:
    """True when nobody runs a ``running`` job any more: no lease (claimed before leases, or
    by a caller without one), a lease past its end, this very worker (but not in its active
    set), or a worker process on this host that has exited."""
    if job.worker is None or job.lease_until is None or job.lease_until < now:
        return True
    if job.worker == me:
        return True
    host, _, rest = job.worker.partition("/")
    pid_text, _, rest = rest.partition("/")
    started = rest.partition("/")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine: only its lease tells
    try:
        proc = psutil.Process(int(pid_text))
        return f"{proc.create_time():.3f}" != started  # the pid was reused
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False


def safe_name(name: str) -> str:
    """A file name safe to create in a work dir (keeps the extension for format detection)."""
    base = os.path.basename(name.replace("\\", "/")).strip() or "upload"
    cleaned = "".join(c if c.isalnum() or c in "._-+" else "_" for c in base)
    return cleaned.lstrip(".")[-120:] or "upload"


def _tail(path: Path, limit: int = 300) -> str:
    """The last line of a child's stderr (for crash messages)."""
    try:
        lines = path.read_bytes()[-4096:].decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:limit] if lines else ""


def describe_exit(code: int | None) -> str:
    """Human words for a subprocess exit code."""
    if code is None:
        return "no exit code"
    if code < 0:
        import signal

        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
