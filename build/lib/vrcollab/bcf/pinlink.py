"""The pin link: a ``ReferenceLink`` carrying what BCF cannot hold exactly about an annotation.

``vrcollab:annotation?id=<annotation id>&node=<node id>&p=x,y,z&n=x,y,z&view=<10 numbers>|none
&c=<comment guid> <comment id>...`` (URL-encoded). ``p``/``n`` are the pin position and normal in
model space; ``view`` is the annotation viewpoint (position, target, up, fov) or ``none`` when the
annotation had none; ``c`` maps comment GUIDs back to comment ids that are not UUIDs. A malformed
link is ignored like any foreign link.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from vrcollab.bcf.model import Topic

PIN_LINK = "vrcollab:annotation?"


def format_link(a: Mapping[str, Any], comment_ids: Mapping[str, str]) -> str:
    """The pin link for annotation ``a`` (see :mod:`vrcollab.bcf.annotations`)."""
    def nums(values: Sequence[float]) -> str:
        return ",".join(repr(float(v)) for v in values)

    params: list[tuple[str, str]] = [("id", a["id"])]
    if a.get("node_id") is not None:
        params.append(("node", str(a["node_id"])))
    params += [("p", nums(a["position"])), ("n", nums(a["normal"]))]
    view = a.get("viewpoint")
    if view:
        params.append(("view", nums([*view["position"], *view["target"], *view["up"],
                                     view["fov"]])))
    else:
        params.append(("view", "none"))
    params += [("c", f"{g} {cid}") for g, cid in comment_ids.items()]
    return PIN_LINK + urlencode(params)


def parse_link(topic: Topic) -> dict[str, Any] | None:
    """The first well-formed pin link of ``topic`` as a dict, or ``None``."""
    for link in topic.reference_links:
        if not link.startswith(PIN_LINK):
            continue
        out: dict[str, Any] = {"c": {}}
        try:
            for key, value in parse_qsl(link[len(PIN_LINK):], strict_parsing=True):
                if key in ("p", "n"):
                    out[key] = _floats(value, 3)
                elif key == "view":
                    out[key] = "none" if value == "none" else _view(_floats(value, 10))
                elif key == "c":
                    guid, _, cid = value.partition(" ")
                    out["c"][guid] = cid
                elif key in ("id", "node"):
                    out[key] = value
        except ValueError:
            continue  # not ours after all; ignore it like any other link
        if "id" in out and ("p" in out) == ("n" in out):
            return out
    return None


def _floats(text: str, n: int) -> list[float]:
    values = [float(v) for v in text.split(",")]
    if len(values) != n or not all(math.isfinite(v) for v in values):
        raise ValueError(text)
    return values


def _view(v: list[float]) -> dict[str, Any]:
    return {"position": v[0:3], "target": v[3:6], "up": v[6:9], "fov": v[9]}
