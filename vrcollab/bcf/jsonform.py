"""JSON form of the BCF model: topics as plain dicts (for annotations, REST answers, storage).

``topic_to_json`` omits fields that hold their default value; dates become ISO 8601 strings,
tuples become lists, cameras carry a ``kind``. Binary payloads (snapshots, bitmaps, documents,
snippets) are base64 strings when ``binary=True`` and dropped (read back as ``None``) otherwise.
``topic_from_json`` is the exact inverse and rejects malformed input with
:class:`~vrcollab.errors.BcfError`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import types
import typing
from datetime import datetime
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

import vrcollab.bcf.model as bcf_model
from vrcollab.bcf.model import OrthogonalCamera, PerspectiveCamera, Topic
from vrcollab.errors import BcfError

T = TypeVar("T")
_CAMERAS: dict[str, type] = {"perspective": PerspectiveCamera, "orthogonal": OrthogonalCamera}


def topic_to_json(topic: Topic, *, binary: bool = True) -> dict[str, Any]:
    """A JSON-compatible dict for ``topic``."""
    out = _encode(topic, binary)
    assert isinstance(out, dict)
    return out


def topic_from_json(data: object) -> Topic:
    """Rebuild a :class:`Topic` from :func:`topic_to_json` output."""
    return _decode(Topic, data, "topic")


def _encode(value: object, binary: bool) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, object] = {}
        if isinstance(value, PerspectiveCamera | OrthogonalCamera):
            out["kind"] = "perspective" if isinstance(value, PerspectiveCamera) else "orthogonal"
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if f.default is not dataclasses.MISSING and v == f.default:
                continue
            if isinstance(v, bytes) and not binary:
                continue
            out[f.name] = _encode(v, binary)
        return out
    if isinstance(value, tuple):
        return [_encode(v, binary) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _fail(where: str, expected: str) -> BcfError:
    return BcfError(f"invalid BCF JSON at {where}: expected {expected}", code="bcf_invalid")


def _decode(tp: Any, data: object, where: str) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if data is None:
            if type(None) in get_args(tp):
                return None
            raise _fail(where, "a value")
        if len(options) == 1:
            return _decode(options[0], data, where)
        if isinstance(data, dict) and data.get("kind") in _CAMERAS:
            return _decode(_CAMERAS[data["kind"]], data, where)
        raise _fail(where, "a camera with a kind")
    if origin is tuple:
        args = get_args(tp)
        if not isinstance(data, list):
            raise _fail(where, "a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
        if len(data) != len(args):
            raise _fail(where, f"{len(args)} items")
        return tuple(_decode(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, data,
                                                                                     strict=True)))
    if dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise _fail(where, "an object")
        hints = get_type_hints(tp, vars(bcf_model))
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in data:
                kwargs[f.name] = _decode(hints[f.name], data[f.name], f"{where}.{f.name}")
            elif f.default is dataclasses.MISSING:
                raise _fail(f"{where}.{f.name}", "a value")
        return tp(**kwargs)  # type: ignore[operator]
    return _scalar(tp, data, where)


def _scalar(tp: Any, data: object, where: str) -> Any:
    if tp is datetime:
        if not isinstance(data, str):
            raise _fail(where, "an ISO 8601 string")
        try:
            return datetime.fromisoformat(data)
        except ValueError as exc:
            raise _fail(where, "an ISO 8601 string") from exc
    if tp is bytes:
        if not isinstance(data, str):
            raise _fail(where, "base64 text")
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error as exc:
            raise _fail(where, "base64 text") from exc
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise _fail(where, "a number")
        return float(data)
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise _fail(where, "an integer")
        return data
    if tp is bool or tp is str:
        if not isinstance(data, tp):
            raise _fail(where, tp.__name__)
        return data
    raise _fail(where, f"a supported type, not {typing.get_origin(tp) or tp}")
