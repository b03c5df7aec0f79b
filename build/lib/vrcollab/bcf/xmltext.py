"""Typed value helpers for BCF XML: reading elements into Python values and back.

Reading is lenient in form (missing optional values become ``None``) but strict in content:
a value that is present but unparsable raises :class:`~vrcollab.errors.BcfError`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TypeAlias

from lxml import etree

from vrcollab.bcf.model import Vec3
from vrcollab.errors import BcfError

Element: TypeAlias = etree._Element


def child(el: Element, name: str) -> Element | None:
    """The first direct child called ``name``."""
    for c in el:
        if c.tag == name:
            return c
    return None


def children(el: Element | None, name: str) -> list[Element]:
    """All direct children called ``name`` (empty when ``el`` is ``None``)."""
    if el is None:
        return []
    return [c for c in el if c.tag == name]


def opt_text(el: Element | None) -> str | None:
    """The element's text, or ``None`` when missing or blank."""
    if el is None or el.text is None or not el.text.strip():
        return None
    return el.text


def child_text(el: Element, name: str) -> str | None:
    """Text of the first child ``name``; ``None`` when missing or blank."""
    return opt_text(child(el, name))


def req_text(el: Element, name: str, where: str) -> str:
    """Text of a required child; raises when missing or blank."""
    value = child_text(el, name)
    if value is None:
        raise BcfError(f"{where}: missing <{name}>", code="bcf_invalid")
    return value


def opt_attr(el: Element, name: str) -> str | None:
    """Attribute value, ``None`` when missing or blank."""
    value = el.get(name)
    return value if value is not None and value.strip() else None


def parse_bool(value: str | None, default: bool, where: str) -> bool:
    """xs:boolean."""
    if value is None:
        return default
    v = value.strip()
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    raise BcfError(f"{where}: not a boolean: {value!r}", code="bcf_invalid")


def parse_float(value: str | None, where: str) -> float:
    """xs:double, finite only."""
    if value is None:
        raise BcfError(f"{where}: missing number", code="bcf_invalid")
    try:
        f = float(value.strip())
    except ValueError as exc:
        raise BcfError(f"{where}: not a number: {value!r}", code="bcf_invalid") from exc
    if not math.isfinite(f):
        raise BcfError(f"{where}: number is not finite: {value!r}", code="bcf_invalid")
    return f


def parse_int(value: str | None, where: str) -> int | None:
    """xs:int (``None`` when absent)."""
    if value is None or not value.strip():
        return None
    try:
        return int(value.strip())
    except ValueError as exc:
        raise BcfError(f"{where}: not an integer: {value!r}", code="bcf_invalid") from exc


def parse_date(value: str | None, where: str) -> datetime | None:
    """xs:dateTime (``None`` when absent). Fractions beyond microseconds are truncated."""
    if value is None or not value.strip():
        return None
    v = value.strip()
    try:
        return datetime.fromisoformat(v)
    except ValueError as exc:
        raise BcfError(f"{where}: not a date-time: {value!r}", code="bcf_invalid") from exc


def req_date(el: Element, name: str, where: str) -> datetime:
    """A required xs:dateTime child."""
    d = parse_date(child_text(el, name), f"{where} <{name}>")
    if d is None:
        raise BcfError(f"{where}: missing <{name}>", code="bcf_invalid")
    return d


def vec3(el: Element | None, where: str) -> Vec3:
    """A Point/Direction element with X, Y, Z children."""
    if el is None:
        raise BcfError(f"{where}: missing point", code="bcf_invalid")
    return (
        parse_float(child_text(el, "X"), f"{where} X"),
        parse_float(child_text(el, "Y"), f"{where} Y"),
        parse_float(child_text(el, "Z"), f"{where} Z"),
    )


# --- writing -----------------------------------------------------------------------------------


def format_date(d: datetime) -> str:
    """xs:dateTime text; UTC is written as ``Z``."""
    offset = d.utcoffset()
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        d = d.astimezone(UTC)  # xs:dateTime offsets have minute resolution
    s = d.isoformat()
    if d.tzinfo is not None and d.utcoffset() == UTC.utcoffset(None):
        s = s[: -len("+00:00")] + "Z"
    return s


def format_float(f: float) -> str:
    """xs:double text that reads back to exactly the same float."""
    if not math.isfinite(f):
        raise BcfError(f"cannot write a non-finite number: {f!r}", code="bcf_invalid_model")
    return repr(float(f))


def format_int(i: int, where: str) -> str:
    """xs:int text (32-bit signed)."""
    if not -(2**31) <= i < 2**31:
        raise BcfError(f"{where}: {i} does not fit in xs:int", code="bcf_invalid_model")
    return str(i)


def sub(parent: Element, name: str, text: str | None = None, **attrs: str) -> Element:
    """Append a child element with optional text and attributes."""
    el = etree.SubElement(parent, name, attrs)
    if text is not None:
        el.text = text
    return el


def sub_vec3(parent: Element, name: str, v: Vec3) -> Element:
    """Append a Point/Direction element."""
    el = sub(parent, name)
    for axis, value in zip(("X", "Y", "Z"), v, strict=True):
        sub(el, axis, format_float(value))
    return el
