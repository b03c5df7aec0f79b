"""The JSON form of topics is an exact, validated inverse."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bcf_support import full_topic, official_cases

from vrcollab.bcf import Topic, read_bcf
from vrcollab.bcf.jsonform import topic_from_json, topic_to_json
from vrcollab.errors import BcfError


@pytest.mark.parametrize("version", ["2.1", "3.0"])
def test_json_round_trip_with_binaries(version: str) -> None:
    topics = [full_topic(version)] + [t for p in official_cases(version)
                                      for t in read_bcf(p.read_bytes())]
    for topic in topics:
        data = json.loads(json.dumps(topic_to_json(topic)))
        assert topic_from_json(data) == topic


def test_json_without_binaries_drops_only_bytes() -> None:
    topic = full_topic("3.0")
    data = topic_to_json(topic, binary=False)
    back = topic_from_json(data)
    assert back.viewpoints[0].snapshot is None
    assert back.viewpoints[0].bitmaps[0].data is None
    assert back.viewpoints[0].camera == topic.viewpoints[0].camera
    assert back.comments == topic.comments
    assert data["viewpoints"][0]["camera"]["kind"] == "perspective"
    minimal = Topic(guid=topic.guid, title="t", creation_date=topic.creation_date,
                    creation_author="a")
    assert set(topic_to_json(minimal)) == {"guid", "title", "creation_date", "creation_author"}


@pytest.mark.parametrize("mutate", [
    lambda d: d.pop("title"),
    lambda d: d.update(creation_date="yesterday"),
    lambda d: d.update(index="3"),
    lambda d: d.update(labels="x"),
    lambda d: d["viewpoints"][0]["camera"].pop("kind"),
    lambda d: d["viewpoints"][0]["camera"].update(position=[1, 2]),
    lambda d: d["viewpoints"][0].update(snapshot="***"),
    lambda d: d["viewpoints"][0]["camera"].update(field_of_view=True),
])
def test_malformed_json_raises(mutate: Any) -> None:
    data = json.loads(json.dumps(topic_to_json(full_topic("3.0"))))
    mutate(data)
    with pytest.raises(BcfError, match="invalid BCF JSON"):
        topic_from_json(data)
