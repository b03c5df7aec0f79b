"""The REST the web app needs (vrcollab.server.webapp_api, job_progress): version compare, the
project issues list across rooms, cancelling a conversion and one overall job percent."""

from __future__ import annotations

from tests.api.api_support import FAKE_CONVERTERS, Api, AppFactory, obj_text
from vrcollab.server.job_progress import LEVEL_STAGE_WEIGHTS, STAGE_WEIGHTS, overall_percent
from vrcollab.sync.messages import Op


def _upload(api: Api, sizes: dict[str, float], model: str = "Tower") -> dict:
    r = api.client.post(f"/api/projects/{api.project_id}/models", params={"model": model},
                        files={"file": ("t.obj", obj_text(sizes), "application/octet-stream")},
                        headers=api.owner)
    assert r.status_code == 202, r.text
    out: dict = r.json()
    return out


def test_compare_counts_added_changed_removed(api: Api) -> None:
    v1 = _upload(api, {"wall": 1.0, "slab": 2.0, "door": 0.5})
    assert api.wait_job(v1["job"]["job_id"])["status"] == "done"
    v2 = _upload(api, {"wall": 1.5, "slab": 2.0, "roof": 1.0})
    assert api.wait_job(v2["job"]["job_id"])["status"] == "done"
    a, b = v1["version"]["version_id"], v2["version"]["version_id"]
    res = api.client.get(f"/api/versions/{a}/compare/{b}", headers=api.viewer)
    assert res.status_code == 200, res.text
    out = res.json()
    assert "GID-roof" in out["sample"]["added"]
    assert "GID-wall" in out["sample"]["changed"]
    assert "GID-door" in out["sample"]["removed"]
    assert "GID-slab" not in out["sample"]["changed"]
    # each element is keyed by GlobalId and node name: 1 element = 2 keys
    assert (out["added"], out["changed"], out["removed"], out["unchanged"]) == (2, 2, 2, 2)
    back = api.client.get(f"/api/versions/{b}/compare/{a}", headers=api.viewer).json()
    assert (back["added"], back["removed"]) == (2, 2)
    assert back["from"]["number"] == 2
    assert api.client.get(f"/api/versions/{a}/compare/{b}",
                          headers=api.outsider).status_code == 404
    other = _upload(api, {"wall": 1.0}, model="Other")
    api.wait_job(other["job"]["job_id"])
    res = api.client.get(f"/api/versions/{a}/compare/{other['version']['version_id']}",
                         headers=api.owner)
    assert res.status_code == 400


def test_overall_percent_never_restarts_per_stage() -> None:
    seen = [overall_percent("running", stage, pct)
            for stage, _ in STAGE_WEIGHTS for pct in (0.0, 50.0, 100.0)]
    assert seen == sorted(seen)
    assert seen[0] == 0.0
    assert abs(seen[-1] - 100.0) < 1e-6
    assert overall_percent("done", "done", 100.0) == 100.0
    assert overall_percent("queued", "queued", 0.0) == 0.0
    # the GLB-ladder layout: its own stages after the shared load keep rising to 100
    ladder = [overall_percent("running", stage, pct)
              for stage, _ in LEVEL_STAGE_WEIGHTS[2:] for pct in (0.0, 50.0, 100.0)]
    assert ladder == sorted(ladder)
    assert ladder[0] > 0.0
    assert abs(ladder[-1] - 100.0) < 1e-6


def test_job_json_has_overall_percent(api: Api) -> None:
    up = _upload(api, {"wall": 1.0})
    done = api.wait_job(up["job"]["job_id"])
    assert done["overall_percent"] == 100.0
    assert "percent" in done


def test_cancel_a_running_conversion(make_api: AppFactory) -> None:
    api = make_api(job_converter=f"{FAKE_CONVERTERS}:slow_obj_parts")
    up = _upload(api, {"wall": 1.0})
    job_id = up["job"]["job_id"]
    assert api.client.post(f"/api/jobs/{job_id}/cancel", headers=api.viewer).status_code == 403
    assert api.client.post(f"/api/jobs/{job_id}/cancel",
                           headers=api.outsider).status_code == 404
    res = api.client.post(f"/api/jobs/{job_id}/cancel", headers=api.owner)
    assert res.status_code == 202
    job = api.wait_job(job_id, timeout=60)
    assert job["status"] == "failed"
    assert job["error_code"] == "cancelled"
    version = api.client.get(f"/api/versions/{up['version']['version_id']}",
                             headers=api.owner).json()
    assert version["status"] == "failed"
    assert api.client.post(f"/api/jobs/{job_id}/cancel", headers=api.owner).status_code == 409


async def _annotate(api: Api, room_id: str, items: list[tuple[str, dict]]) -> None:
    from vrcollab.server.room_ops import commit_server_ops

    app = api.client.app  # type: ignore[attr-defined]
    ops = [(author, Op(f"op-{i}-{room_id}", "annotation.create", {"annotation": ann}))
           for i, (author, ann) in enumerate(items)]
    await commit_server_ops(app, room_id, ops)


def test_project_issues_across_rooms_with_filters(api: Api) -> None:
    c = api.client
    me = c.get("/api/me", headers=api.owner).json()["user_id"]
    rooms = [c.post(f"/api/projects/{api.project_id}/rooms", json={"name": n},
                    headers=api.owner).json()["room_id"] for n in ("North", "South")]
    portal = c.portal  # type: ignore[attr-defined]
    base = {"position": [0, 0, 0], "text": ""}
    portal.call(_annotate, api, rooms[0], [
        (me, {**base, "id": "a1", "title": "Leak", "status": "open", "assignee": me,
              "labels": ["mep"]}),
        (me, {**base, "id": "a2", "title": "Crack", "status": "resolved", "labels": []}),
    ])
    portal.call(_annotate, api, rooms[1], [
        (me, {**base, "id": "b1", "title": "Gap", "status": "open", "labels": ["facade"]}),
    ])
    url = f"/api/projects/{api.project_id}/issues"
    every = c.get(url, headers=api.viewer).json()
    assert {i["id"] for i in every} == {"a1", "a2", "b1"}
    by_room = {i["id"]: i["room_name"] for i in every}
    assert by_room == {"a1": "North", "a2": "North", "b1": "South"}
    assert next(i for i in every if i["id"] == "b1")["link"] == f"/r/{rooms[1]}#annotation=b1"
    assert {i["id"] for i in c.get(url, params={"status": "open"}, headers=api.viewer).json()} \
        == {"a1", "b1"}
    mine = c.get(url, params={"assignee": me}, headers=api.viewer).json()
    assert [i["id"] for i in mine] == ["a1"]
    assert mine[0]["assignee_name"] == "Olivia"
    assert [i["id"] for i in c.get(url, params={"label": "facade"},
                                   headers=api.viewer).json()] == ["b1"]
    assert c.get(url, headers=api.outsider).status_code == 404
