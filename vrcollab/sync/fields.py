"""Field specs: the vocabulary the op table (:mod:`vrcollab.sync.ops`) describes op fields in.

Each spec validates one JSON value (raising :class:`BadFieldError` with a reject code) and
describes itself as a JSON Schema fragment, so the codec and the published schema
(``protocol/vrcollab.schema.json``) come from one definition. The scalar validators (``vec``,
``num``, ``text``...) are also used directly by the codec's hot paths (poses, hello).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")

# Protocol R19: no coordinate (model space, metres) beyond this, whatever the model; rooms
# bound annotations tighter by their model's extent when they know it (``Room.bounds``).
MAX_COORD = 1.0e6
# Protocol R19: a quaternion's length must be within this of 1; the server normalises it.
QUAT_TOLERANCE = 0.1


@dataclass(frozen=True, slots=True)
class Limits:
    """Input bounds enforced by the codec."""

    max_string_chars: int = 10_000
    max_id_chars: int = 200
    max_name_chars: int = 100
    max_labels: int = 32
    max_label_chars: int = 64


DEFAULT_LIMITS = Limits()


class BadFieldError(Exception):
    """A field broke its spec; ``code`` is the reject/error code to answer with."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


# --- scalar validators (raise BadFieldError) ---------------------------------------------


def num(v: Any, name: str) -> float:
    """A finite JSON number (no bools), as float."""
    if type(v) is float:
        if not math.isfinite(v):
            raise BadFieldError("bad_op", f"{name} must be finite")
        return v
    if type(v) is int:
        if abs(v) > 2**53:
            raise BadFieldError("bad_op", f"{name} is out of range")
        return float(v)
    raise BadFieldError("bad_op", f"{name} must be a number")


_NUMBER_TYPES = frozenset((float, int))


def vec(v: Any, n: int, name: str, bound: float = MAX_COORD) -> list[float]:
    """A list of ``n`` finite numbers, each within ``bound`` (R19; the hot path of every pose:
    C-level checks only)."""
    if type(v) is not list or len(v) != n:
        raise BadFieldError("bad_op", f"{name} must be a list of {n} numbers")
    if not set(map(type, v)) <= _NUMBER_TYPES:  # no bools, strings, nulls, lists
        raise BadFieldError("bad_op", f"{name} must be a list of {n} numbers")
    try:  # fsum converts every item to float: huge ints overflow, NaN/inf propagate
        if not math.isfinite(math.fsum(v)):
            raise BadFieldError("bad_op", f"{name} must be finite")
    except OverflowError:
        raise BadFieldError("bad_op", f"{name} is out of range") from None
    if max(v) > bound or min(v) < -bound:
        raise BadFieldError("bad_op", f"{name} is out of bounds (|x| <= {bound:g})")
    return v


_QUAT_MIN2, _QUAT_MAX2 = (1.0 - QUAT_TOLERANCE) ** 2, (1.0 + QUAT_TOLERANCE) ** 2


def quat(v: Any, name: str) -> list[float]:
    """A unit quaternion x,y,z,w within QUAT_TOLERANCE; normalised when more than 1e-3 off
    (R19)."""
    vec(v, 4, name, 2.0)
    a, b, c, d = v
    n2 = a * a + b * b + c * c + d * d
    if not _QUAT_MIN2 <= n2 <= _QUAT_MAX2:
        raise BadFieldError("bad_op", f"{name} must be a unit quaternion")
    if not 0.998 <= n2 <= 1.002:
        norm = math.sqrt(n2)
        return [a / norm, b / norm, c / norm, d / norm]
    return v


def text(v: Any, name: str, limit: int) -> str:
    """A string of at most ``limit`` characters."""
    if type(v) is not str:
        raise BadFieldError("bad_op", f"{name} must be a string")
    if len(v) > limit:
        raise BadFieldError("too_large", f"{name} is longer than {limit} characters")
    return v


def ident(v: Any, name: str, lim: Limits) -> str:
    """A non-empty id of at most ``lim.max_id_chars`` characters."""
    s = text(v, name, lim.max_id_chars)
    if not s:
        raise BadFieldError("bad_op", f"{name} must not be empty")
    return s


def boolean(v: Any, name: str) -> bool:
    """true or false."""
    if type(v) is not bool:
        raise BadFieldError("bad_op", f"{name} must be true or false")
    return v


def enum(v: Any, name: str, allowed: tuple[str, ...]) -> str:
    """One of ``allowed``."""
    if v not in allowed or type(v) is not str:
        raise BadFieldError("bad_op", f"{name} must be one of {', '.join(allowed)}")
    return str(v)


def obj(v: Any, name: str) -> dict[str, Any]:
    """A JSON object."""
    if type(v) is not dict:
        raise BadFieldError("bad_op", f"{name} must be an object")
    return v


def color(v: Any, name: str) -> str:
    """``"#rrggbb"``, lower-cased."""
    if type(v) is not str or not _COLOR.match(v):
        raise BadFieldError("bad_op", f'{name} must be "#rrggbb"')
    return v.lower()


def only(o: Mapping[str, Any], allowed: AbstractSet[str], name: str) -> None:
    """Refuse fields not in ``allowed``."""
    extra = set(o) - allowed
    if extra:
        raise BadFieldError("bad_op", f"unknown field(s) in {name}: {', '.join(sorted(extra))}")


# --- specs -------------------------------------------------------------------------------

_ID_PATTERN = "^.+$"


class Spec:
    """A field spec: ``check`` validates and normalises, ``schema`` describes (JSON Schema)."""

    def check(self, v: Any, name: str, lim: Limits) -> Any:
        raise NotImplementedError

    def schema(self, lim: Limits) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class Id(Spec):
    """A non-empty id string (``Limits.max_id_chars``)."""

    def check(self, v: Any, name: str, lim: Limits) -> Any:
        return ident(v, name, lim)

    def schema(self, lim: Limits) -> dict[str, Any]:
        return {"type": "string", "minLength": 1, "maxLength": lim.max_id_chars}


@dataclass(frozen=True)
class Text(Spec):
    """A string of at most ``Limits.max_string_chars`` (or ``cap``, if smaller) characters."""

    cap: int | None = None

    def _limit(self, lim: Limits) -> int:
        return lim.max_string_chars if self.cap is None else min(self.cap, lim.max_string_chars)

    def check(self, v: Any, name: str, lim: Limits) -> Any:
        return text(v, name, self._limit(lim))

    def schema(self, lim: Limits) -> dict[str, Any]:
        return {"type": "string", "maxLength": self._limit(lim)}


@dataclass(frozen=True)
class Vec(Spec):
    """``n`` finite numbers, each within ``bound`` (R19)."""

    n: int = 3
    bound: float = MAX_COORD

    def check(self, v: Any, name: str, lim: Limits) -> Any:
        return vec(v, self.n, name, self.bound)

    def schema(self, lim: Limits) -> dict[str, Any]:
        item = {"type": "number", "minimum": -self.bound, "maximum": self.bound}
        return {"type": "array", "items": item, "minItems": self.n, "maxItems": self.n}


@dataclass(frozen=True)
class Points(Spec):
    """Between ``low`` and ``high`` points of three finite numbers, each within MAX_COORD
    (R19; a polyline)."""

    low: int = 2
    high: int = 500

    def check(self, v: Any, name: str, lim: Limits) -> Any:
        if type(v) is not list:
            raise BadFieldError("bad_op", f"{name} must be a list of points")
        if not self.low <= len(v) <= self.high:
            code = "too_large" if len(v) > self.high else "bad_op"
            raise BadFieldError(code, f"{name} must have {self.low} to {self.high} points")
        return [vec(x, 3, name) for x in v]

    def schema(self, lim: Limits) -> dict[str, Any]:
        item = {"type": "array", "items": {"type": "number", "minimum": -MAX_COORD,
                                           "maximum": MAX_COORD}, "minItems": 3, "maxItems": 3}
        return {"type": "array", "items": item, "minItems": self.low, "maxItems": self.high}


@dataclass(frozen=True)
class Ids(Spec):
    """A list of at most ``high`` ids (node ids of a saved view)."""

    high: int = 5000

    def check(self, v: Any, name: str, lim: Limits) -> Any:
        if type(v) is not list:
            raise BadFieldError("bad_op", f"{name} must be a list of ids")
        if len(v) > self.high:
            raise BadFieldError("too_large", f"{name} holds more than {self.high} ids")
        return [ident(x, name, lim) for x in v]

    def schema(self, lim: Limits) -> dict[str, Any]:
        return {"type": "array", "maxItems": self.high,
                "items": {"type": "string", "minLength": 1, "maxLength": lim.max_id_chars}}


@dataclass(frozen=True)
class ColorMap(Spec):
    """An object of at most ``high`` id -> ``"#rrggbb"`` members (colour overrides)."""

    high: int = 5000

    def check(self, v: Any, name: str, lim: Limits) -> Any:
        o = obj(v, name)
        if len(o) > self.high:
            raise BadFieldError("too_large", f"{name} holds more than {self.high} ids")
        return {ident(k, name, lim): color(c, name) for k, c in o.items()}

    def schema(self, lim: Limits) -> dict[str, Any]:
        return {"type": "object", "maxProperties": self.high,
                "additionalProperties": {"type": "string", "pattern": _COLOR.pattern}}


@dataclass(frozen=True)
class Number(Spec):
    """One finite number within [``low``, ``high``]."""

    low: float = -MAX_COORD
    high: float = MAX_COORD

    def check(self, v: Any, name: str, lim: Limits) -> Any:
        x = num(v, name)
        if not self.low <= x <= self.high:
            raise BadFieldError("bad_op", f"{name} must be between {self.low:g} and "
                                f"{self.high:g}")
        return x

    def schema(self, lim: Limits) -> dict[str, Any]:
        return {"type": "number", "minimum": self.low, "maximum": self.high}


@dataclass(frozen=True)
class Bool(Spec):
    """true or false."""

    def check(self, v: Any, name: str, lim: Limits) -> Any:
        return boolean(v, name)

    def schema(self, lim: Limits) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Enum(Spec):
    """One of a fixed list of strings."""

    values: tuple[str, ...]

    def check(self, v: Any, name: str, lim: Limits) -> Any:
        return enum(v, name, self.values)

    def schema(self, lim: Limits) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.values)}


@dataclass(frozen=True)
class Color(Spec):
    """``"#rrggbb"``."""

    def check(self, v: Any, name: str, lim: Limits) -> Any:
        return color(v, name)

    def schema(self, lim: Limits) -> dict[str, Any]:
        return {"type": "string", "pattern": _COLOR.pattern}


@dataclass(frozen=True)
class Labels(Spec):
    """At most ``Limits.max_labels`` strings of ``Limits.max_label_chars``."""

    def check(self, v: Any, name: str, lim: Limits) -> Any:
        if type(v) is not list:
            raise BadFieldError("bad_op", f"{name} must be a list of strings")
        if len(v) > lim.max_labels:
            raise BadFieldError("too_large", f"more than {lim.max_labels} {name}")
        return [text(x, "label", lim.max_label_chars) for x in v]

    def schema(self, lim: Limits) -> dict[str, Any]:
        return {"type": "array", "maxItems": lim.max_labels,
                "items": {"type": "string", "maxLength": lim.max_label_chars}}


@dataclass(frozen=True)
class Nullable(Spec):
    """``inner`` or null."""

    inner: Spec

    def check(self, v: Any, name: str, lim: Limits) -> Any:
        return None if v is None else self.inner.check(v, name, lim)

    def schema(self, lim: Limits) -> dict[str, Any]:
        return {"anyOf": [self.inner.schema(lim), {"type": "null"}]}


_REQUIRED: Any = object()
#: ``F(spec, OMIT)``: an optional member that is left out when absent (no default added), so
#: adding it to a record does not change the records older clients send.
OMIT: Any = object()


@dataclass(frozen=True)
class F:
    """One member of a :class:`Record`: its spec and its default (none: required).
    ``key_required`` makes a nullable field's key mandatory (``presenter.set``)."""

    spec: Spec
    default: Any = _REQUIRED
    key_required: bool = False

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


@dataclass(frozen=True)
class Record(Spec):
    """A JSON object with known members; unknown members are refused (``bad_op``).

    ``partial``: every member optional, absent ones omitted, at least one present (the
    ``props`` of an update). Otherwise absent members take their default, in spec order."""

    members: Mapping[str, F] = field(default_factory=dict)
    partial: bool = False

    def check(self, v: Any, name: str, lim: Limits) -> Any:
        o = obj(v, name)
        only(o, self.members.keys(), name)
        members = self.members
        if self.partial:
            if not o:
                raise BadFieldError("bad_op", f"{name} must not be empty")
            return {k: members[k].spec.check(x, k, lim) for k, x in o.items()}
        out: dict[str, Any] = {}
        for k, m in members.items():
            if k in o:
                out[k] = m.spec.check(o[k], _path(name, k), lim)
            elif m.key_required:
                raise BadFieldError("bad_op", f"{_path(name, k)} is required")
            elif m.required:
                out[k] = m.spec.check(None, _path(name, k), lim)
            elif m.default is OMIT:
                continue
            else:
                out[k] = copy.deepcopy(m.default)
        return out

    def schema(self, lim: Limits) -> dict[str, Any]:
        props: dict[str, Any] = {}
        for k, m in self.members.items():
            s = m.spec.schema(lim)
            if not m.required and m.default is not OMIT:
                s = {**s, "default": m.default}
            props[k] = s
        out: dict[str, Any] = {"type": "object", "properties": props,
                               "additionalProperties": False}
        if self.partial:
            out["minProperties"] = 1
        else:
            req = [k for k, m in self.members.items() if m.required or m.key_required]
            if req:
                out["required"] = req
        return out


def _path(name: str, key: str) -> str:
    return key if name in ("", "op") else f"{name}.{key}"
