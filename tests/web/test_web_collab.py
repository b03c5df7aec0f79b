"""Two browsers in one room over the real server: annotations, replies, transforms, avatars,
and a model that really renders."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server_process import ServerProcess
from tests.web.roomkit import (
    PreparedRoom,
    canvas_is_rendered,
    drag,
    drop_annotation,
    info,
    model_center,
    open_client,
    wait_js,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_two_clients_review_together(browser: Any, web_server: ServerProcess,
                                     web_room: PreparedRoom) -> None:
    reviewer = web_server.token(web_room.project_id, "reviewer", "Rita")
    a = open_client(browser, web_room.url(web_room.owner_token, name="Olga", color="%23e34a33"))
    b = open_client(browser, web_room.url(reviewer, name="Rita", color="%232fbf71"))
    try:
        ia, ib = info(a), info(b)
        assert ia["role"] == "owner"
        assert ib["role"] == "reviewer"
        assert ia["model"]["parts"] > 50  # one node per IFC element survived into the client
        assert canvas_is_rendered(a)
        assert canvas_is_rendered(b)

        # Each sees the other's avatar (presence + poses at the tick rate).
        wait_js(a, "window.__vrcollab.info().avatars.some("
                   f"(x) => x.session_id === '{ib['session_id']}' && x.visible)")
        wait_js(b, "window.__vrcollab.info().avatars.some("
                   f"(x) => x.session_id === '{ia['session_id']}' && x.visible)")
        people_b = b.locator("#tab-people .person .nm").all_text_contents()
        assert "Olga" in people_b
        assert "Rita (you)" in people_b

        # A drops an annotation; B sees the same text and position.
        ann = drop_annotation(a, "Check the roof edge", "Flashing missing on the east side")
        assert ann["node_id"], "the pin is attached to the part under the cursor"
        assert ann["viewpoint"] is not None
        got = wait_js(b, "window.__vrcollab.info().annotations.find("
                         f"(x) => x.id === '{ann['id']}')")
        assert got["text"] == "Flashing missing on the east side"
        assert got["position"] == ann["position"]
        assert got["author"] == ia["user_id"]
        assert b.locator(f"[data-id='{ann['id']}'] .body").text_content() == got["text"]

        # B replies from the panel; A sees the reply.
        b.click(f"[data-id='{ann['id']}']")
        b.fill("textarea[aria-label=Reply]", "Agreed, adding it to the punch list")
        b.click(f"[data-id='{ann['id']}'] button:text('Reply')")
        wait_js(a, "window.__vrcollab.info().annotations.find("
                   f"(x) => x.id === '{ann['id']}').comments.length === 1")
        comment = next(x for x in info(a)["annotations"] if x["id"] == ann["id"])["comments"][0]
        assert comment["text"] == "Agreed, adding it to the punch list"
        assert comment["author"] == ib["user_id"]

        # B resolves it and filters by status.
        b.click(f"[data-id='{ann['id']}'] button:text('Resolve')")
        wait_js(a, "window.__vrcollab.info().annotations.find("
                   f"(x) => x.id === '{ann['id']}').status === 'resolved'")
        b.select_option("#ann-filter", "open")
        assert b.locator(f"[data-id='{ann['id']}']").count() == 0
        b.select_option("#ann-filter", "resolved")
        assert b.locator(f"[data-id='{ann['id']}']").count() == 1

        # A selects a part (beside the pin) and drags it with the gizmo; B sees the transform.
        x, y = a.evaluate(f"window.__vrcollab.project({model_center(a)})")
        a.mouse.click(x - 70, y + 30)
        part = wait_js(a, "window.__vrcollab.info().selected")
        # Hovering names the part under the cursor, with its IFC class and properties.
        wait_js(a, "!document.getElementById('tooltip').hidden && "
                   f"document.getElementById('tooltip').textContent.startsWith({part!r})")
        assert "Ifc" in (a.locator("#tooltip").text_content() or "")
        assert a.locator("#inspector h3").text_content() == part  # properties tab
        before = a.evaluate(f"window.__vrcollab.partMatrix({part!r})")
        a.click("[data-tool=move]")
        x, y = wait_js(a, "window.__vrcollab.gizmo()")
        drag(a, x, y, 80, 30)
        wait_js(a, f"window.__vrcollab.info().nodes[{part!r}]?.transform && "
                   "window.__vrcollab.info().pending === 0")
        moved = info(a)["nodes"][part]["transform"]
        assert moved != before
        wait_js(b, f"JSON.stringify(window.__vrcollab.info().nodes[{part!r}]?.transform) === "
                   f"JSON.stringify({moved})")
        shown = b.evaluate(f"window.__vrcollab.partMatrix({part!r})")
        assert all(abs(p - q) < 1e-5 for p, q in zip(shown, moved, strict=True))
        # Reviewers cannot move parts: the gizmo tool is disabled for B.
        assert b.locator("[data-tool=move]").is_disabled()
        assert not a.errors
        assert not b.errors
    finally:
        a.context.close()
        b.context.close()
