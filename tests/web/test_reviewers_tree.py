"""Issue 14, model tree and search: the Model tab groups parts by storey and class with counts,
search finds an element by one of its property values, picking a result selects the element
and flies to it, and the tree hides parts for oneself."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server_process import ServerProcess
from tests.web.roomkit import PreparedRoom, fresh_room, info, open_client, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PROPERTY_VALUE_JS = """() => {
  // A property value of the selected part, read from the Part tab: rows after a group header.
  const rows = [...document.querySelectorAll('#inspector tr')];
  let inGroup = false;
  for (const r of rows) {
    if (r.querySelector('td.grp')) { inGroup = true; continue; }
    const td = r.querySelectorAll('td');
    const v = td[1]?.textContent ?? '';
    if (inGroup && v.length >= 4 && !/^[-0-9. a-z²³]*$/.test(v) && v !== '—') return v;
  }
  return null;
}"""


def test_search_finds_an_element_by_a_property_value_and_flies_to_it(
    browser: Any, web_server: ServerProcess, web_room: PreparedRoom
) -> None:
    room = fresh_room(web_room, "Tree")
    rita = web_server.token(room.project_id, "reviewer", "Rita")
    a = open_client(browser, room.url(rita, name="Rita"))
    try:
        assert info(a)["model"]["tiles"], "the tiled (v2) path: the element table"
        part = a.evaluate("window.__vrcollab.centerHit().part")
        assert part
        a.evaluate(f"window.__vrcollab.select({part!r})")
        value = wait_js(a, PROPERTY_VALUE_JS)
        a.click(".tab[data-tab=tree]")
        groups = a.locator("#tab-tree .tree-group").count()
        assert groups >= 1
        total = int(a.locator("#tab-tree .tree-group .count").first.inner_text())
        assert total == info(a)["model"]["parts"]
        a.fill("#tree-search", value)
        wait_js(a, f"document.querySelector('#tab-tree .tree-leaf[data-node=\"{part}\"]')")
        a.evaluate("window.__vrcollab.select(null)")
        before = info(a)["camera"]
        a.click(f"#tab-tree .tree-leaf[data-node='{part}'] .link")
        wait_js(a, f"window.__vrcollab.info().selected === {part!r}")
        wait_js(a, "!window.__vrcollab.info().scene.flying")
        assert info(a)["camera"] != before
        # Hide it from the tree: own view only.
        a.click(".tab[data-tab=tree]")
        a.click(f"#tab-tree .tree-leaf[data-node='{part}'] .eye")
        wait_js(a, f"window.__vrcollab.info().own_view.hidden.includes({part!r})")
        assert info(a)["nodes"].get(part) is None
        assert not a.errors
    finally:
        a.context.close()
