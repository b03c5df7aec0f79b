"""Postgres under concurrency from separate connections (as separate server processes are):
``FOR UPDATE`` on invite use, ``FOR UPDATE SKIP LOCKED`` job claims, one op id per room."""

from __future__ import annotations

import contextlib
import threading
import time

import psycopg
import pytest

from vrcollab.errors import AuthError, StoreError
from vrcollab.store.catalog_postgres import PostgresCatalog
from vrcollab.store.identity import InviteRecord
from vrcollab.store.postgres import PostgresStore
from vrcollab.sync.messages import Commit


def test_single_use_invite_goes_to_one_of_many_connections(pg_url: str) -> None:
    stores = [PostgresStore(pg_url) for _ in range(6)]
    try:
        p = stores[0].create_project("P")
        inv = InviteRecord("i_race", p.project_id, "reviewer", None, time.time(),
                           time.time() + 60, 1)
        stores[0].add_invite(inv)
        wins: list[int] = []
        refusals: list[str] = []
        gate = threading.Barrier(len(stores))

        def take(i: int) -> None:
            gate.wait()
            try:
                stores[i].use_invite("i_race", time.time())
                wins.append(i)
            except AuthError as exc:
                refusals.append(exc.code)

        threads = [threading.Thread(target=take, args=(i,)) for i in range(len(stores))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1
        assert len(refusals) == len(stores) - 1
        assert stores[1].get_invite("i_race").uses == 1
        stores[0].add_signin_code("code-1", stores[0].create_user("U").user_id, time.time() + 60)
        got: list[str] = []
        gate2 = threading.Barrier(len(stores))

        def sign_in(i: int) -> None:
            gate2.wait()
            with contextlib.suppress(AuthError):
                got.append(stores[i].use_signin_code("code-1", time.time()))

        threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(len(stores))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(got) == 1
    finally:
        for s in stores:
            s.close()


def test_claim_skips_a_row_another_transaction_holds(pg_url: str) -> None:
    cat = PostgresCatalog(pg_url)
    try:
        model = cat.get_or_create_model("p1", "m")
        vid = cat.create_version(model.model_id, source_name="a.obj", source_sha256="a" * 64,
                                 source_bytes=1).version_id
        first, second = cat.create_job("p1", vid), cat.create_job("p2", vid)
        with psycopg.connect(pg_url) as other:  # another process mid-claim of the first job
            other.execute("SELECT 1 FROM catalog_jobs WHERE job_id = %s FOR UPDATE",
                          (first.job_id,))
            got = cat.claim_next_job(worker="w", lease_s=30)  # does not wait for it
            assert got is not None
            assert got.job_id == second.job_id
            assert cat.claim_next_job(worker="w", lease_s=30) is None  # the first is locked
            other.rollback()
        again = cat.claim_next_job(worker="w", lease_s=30)
        assert again is not None
        assert again.job_id == first.job_id
    finally:
        cat.close()


def test_many_connections_claim_each_job_once(pg_url: str) -> None:
    cats = [PostgresCatalog(pg_url) for _ in range(4)]
    try:
        model = cats[0].get_or_create_model("p1", "m")
        vid = cats[0].create_version(model.model_id, source_name="a.obj",
                                     source_sha256="a" * 64, source_bytes=1).version_id
        made = {cats[0].create_job(f"p{i % 3}", vid).job_id for i in range(40)}
        got: list[str] = []
        lock = threading.Lock()

        def work(cat: PostgresCatalog) -> None:
            while True:
                job = cat.claim_next_job(worker=f"w{id(cat)}", lease_s=30)
                if job is None:
                    if not cat.list_jobs(statuses=("queued",)):
                        return
                    continue  # a row locked by a claim in flight: look again
                with lock:
                    got.append(job.job_id)

        threads = [threading.Thread(target=work, args=(c,)) for c in cats]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(got) == sorted(made)
        assert all(j.attempts == 1 for j in cats[1].list_jobs())
    finally:
        for c in cats:
            c.close()


def test_an_op_id_commits_once_across_connections(pg_url: str) -> None:
    a, b = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        c1 = Commit(1, "op-x", "annotation.create", "u1", 1.0, {"annotation": {"id": "a"}})
        a.append_commits("r1", [c1])
        with pytest.raises(StoreError):  # a second process resending the same op id
            b.append_commits("r1", [Commit(2, "op-x", "annotation.create", "u1", 2.0,
                                           {"annotation": {"id": "a"}})])
        with pytest.raises(StoreError):  # or reusing a seq
            b.append_commits("r1", [Commit(1, "op-y", "annotation.create", "u1", 2.0,
                                           {"annotation": {"id": "b"}})])
        assert [(c.seq, c.op_id) for c in b.commits_since("r1", 0)] == [(1, "op-x")]
    finally:
        a.close()
        b.close()


def test_stores_reconnect_after_the_database_drops_them(pg_url: str) -> None:
    store, cat = PostgresStore(pg_url), PostgresCatalog(pg_url)
    try:
        p = store.create_project("Before")
        model = cat.get_or_create_model(p.project_id, "m")
        with psycopg.connect(pg_url, autocommit=True) as admin:  # a restart, a failover
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        for call in (lambda: store.get_project(p.project_id),
                     lambda: cat.get_model(model.model_id)):
            with contextlib.suppress(StoreError):  # the call that meets the dead connection
                call()
        assert store.get_project(p.project_id).name == "Before"
        assert cat.get_model(model.model_id).name == "m"
        store.append_commits("r1", [Commit(1, "op-1", "annotation.create", "u1", 1.0,
                                           {"annotation": {"id": "a"}})])
        assert [c.op_id for c in store.commits_since("r1", 0)] == ["op-1"]
        job = cat.create_job(p.project_id, cat.create_version(
            model.model_id, source_name="a.obj", source_sha256="a" * 64,
            source_bytes=1).version_id)
        assert cat.get_job(job.job_id).status == "queued"
    finally:
        store.close()
        cat.close()


def test_write_problem_reports_a_read_only_database(pg_url: str) -> None:
    store = PostgresStore(pg_url)
    try:
        assert store.write_problem() is None
        store._db.execute("SET default_transaction_read_only = on")  # as on a standby
        problem = store.write_problem()
        assert problem is not None
        assert "read-only" in problem
        store._db.execute("SET default_transaction_read_only = off")
        assert store.write_problem() is None
    finally:
        store.close()
