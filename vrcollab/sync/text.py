"""String rules of the sync protocol, in one place (protocol R17, R18).

Every string on the wire, in either direction, must be a sequence of Unicode scalar values: no
lone UTF-16 surrogates (JSON can spell them as ``"\\ud800"``; Python then holds a ``str`` that
cannot be encoded as UTF-8, so sending it fails). Display names carry no control, format-control
or bidi-override characters either. The codec calls :func:`bad_string_in` on what it parsed and
:func:`frame_is_clean` on what it is about to send; :func:`scrub` repairs stored data that predates
these rules.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# A JSON escape of a surrogate (``\ud800``..``\udfff``), or a surrogate code point in a str.
# Over-matches (an escaped backslash before "ud800"): only a hint that the full walk must run.
_SURROGATE_HINT = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

# Bidi embeddings/overrides/isolates and other invisible format controls that spoof names.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NAME_FORBIDDEN_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))
_NAME_ALLOWED = frozenset("\u200c\u200d")  # ZWNJ/ZWJ: needed by scripts and emoji sequences

REPLACEMENT = "\ufffd"


def may_hold_surrogates(text: str) -> bool:
    """Cheap pre-check of a raw frame: False means no string in it can hold a lone surrogate."""
    if "\\u" in text:
        return _SURROGATE_HINT.search(text) is not None
    return not text.isascii() and _SURROGATE.search(text) is not None


def is_scalar_string(s: str) -> bool:
    """True when ``s`` holds only Unicode scalar values (encodable as UTF-8)."""
    return _SURROGATE.search(s) is None


def bad_string_in(obj: Any) -> str | None:
    """The first string (key or value) in a parsed JSON value that is not valid Unicode, else
    None. Valid surrogate *pairs* were already joined by the JSON parser."""
    if isinstance(obj, str):
        return None if is_scalar_string(obj) else obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not is_scalar_string(k):
                return k
            bad = bad_string_in(v)
            if bad is not None:
                return bad
    elif isinstance(obj, list):
        for v in obj:
            bad = bad_string_in(v)
            if bad is not None:
                return bad
    return None


def name_problem(s: str) -> str | None:
    """Why ``s`` is not an acceptable display name (R18), or None."""
    for ch in s:
        if ch in _NAME_ALLOWED:
            continue
        if ch in _BIDI:
            return f"bidi control U+{ord(ch):04X} is not allowed in a name"
        if unicodedata.category(ch) in _NAME_FORBIDDEN_CATEGORIES:
            return f"control character U+{ord(ch):04X} is not allowed in a name"
    return None


def clean_name(s: str, limit: int = 100) -> str:
    """A display name with forbidden characters removed and whitespace trimmed (for names the
    server itself holds, e.g. from membership, that predate the rules)."""
    s = scrub_string(s)
    kept = "".join(ch for ch in s if ch in _NAME_ALLOWED or (
        ch not in _BIDI and unicodedata.category(ch) not in _NAME_FORBIDDEN_CATEGORIES))
    return " ".join(kept.split())[:limit]


def scrub_string(s: str) -> str:
    """``s`` with each lone surrogate replaced by U+FFFD (valid pairs are joined)."""
    if is_scalar_string(s):
        return s
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def scrub(obj: Any) -> Any:
    """A copy of a JSON value with every string repaired by :func:`scrub_string`; returns the
    very same object when nothing needed repair (cheap for clean data)."""
    if isinstance(obj, str):
        return scrub_string(obj)
    if isinstance(obj, dict):
        out: dict[Any, Any] | None = None
        for k, v in obj.items():
            k2, v2 = scrub_string(k) if isinstance(k, str) else k, scrub(v)
            if out is None and (k2 is not k or v2 is not v):
                out = {}
                for k0, v0 in obj.items():
                    if k0 is k:
                        break
                    out[k0] = v0
            if out is not None:
                out[k2] = v2
        return obj if out is None else out
    if isinstance(obj, list):
        items = [scrub(v) for v in obj]
        return obj if all(a is b for a, b in zip(items, obj, strict=True)) else items
    return obj


def frame_is_clean(frame: str) -> bool:
    """True when an encoded frame can be sent as UTF-8 (no surrogate code points)."""
    return frame.isascii() or _SURROGATE.search(frame) is None  # ASCII: one C-speed scan
