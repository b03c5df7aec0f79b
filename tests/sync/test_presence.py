"""Pose mailbox: newest wins, own pose excluded, shared batches never mutated."""

from __future__ import annotations

from vrcollab.sync.presence import PoseMailbox


def test_mailbox_merges_and_excludes_own() -> None:
    tick1 = {"a": "A1", "b": "B1"}
    tick2 = {"a": "A2", "c": "C2"}
    box = PoseMailbox()
    assert not box
    assert box.take("a") == []
    box.offer(tick1)
    box.offer(tick2)  # the receiver was busy: tick 1's pose of a is replaced, not queued
    assert sorted(box.take("c")) == ["A2", "B1"]
    assert tick1 == {"a": "A1", "b": "B1"}  # shared batch untouched
    assert not box


def test_mailbox_passes_batch_without_copy() -> None:
    box = PoseMailbox()
    box.offer({"x": "X"})
    assert box.take("y") == ["X"]
    box.offer({})
    assert not box
