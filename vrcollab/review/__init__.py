"""Review domain logic with no I/O: re-anchoring annotations on a new model version
(:mod:`.anchors`) and a room's annotations <-> BCF archives as server ops (:mod:`.bcf_exchange`).
"""
