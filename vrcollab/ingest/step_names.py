"""Product names for the parts of a STEP assembly.

OpenCascade (through ``cascadio``) names each placed part after its assembly occurrence, the
``NEXT_ASSEMBLY_USAGE_OCCURRENCE``'s id (``NAUO10``), which tells a reviewer nothing. The name
people gave the part is on the ``PRODUCT`` the occurrence places:
``NAUO.related_product_definition -> PRODUCT_DEFINITION.formation ->
PRODUCT_DEFINITION_FORMATION.of_product -> PRODUCT.name``. :func:`occurrence_names` reads that
chain from the file's text; :func:`rename_occurrences` applies it to loaded parts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from vrcollab.ingest.model import Part

_ENTITY = re.compile(
    rb"#(\d+)\s*=\s*(PRODUCT|PRODUCT_DEFINITION|PRODUCT_DEFINITION_FORMATION"
    rb"|PRODUCT_DEFINITION_FORMATION_WITH_SPECIFIED_SOURCE|NEXT_ASSEMBLY_USAGE_OCCURRENCE)"
    rb"\s*\(", re.IGNORECASE)
#: Occurrence names OpenCascade's own STEP writer gives (label tags), as meaningless as ids.
_TAG_NAME = re.compile(r"^=>\[[0-9:]+\]$")
_DEDUP = re.compile(r"_\d+$")


def _arguments(text: bytes, start: int) -> list[str | None] | None:
    """The top-level arguments of the entity whose ``(`` is just before ``start``: strings
    decoded, references as ``#n``, anything else (lists, ``$``, enums) as None."""
    args: list[str | None] = []
    depth, i, n = 0, start, len(text)
    current: str | None = None
    while i < n:
        c = text[i]
        if c == 0x27:  # a string: '' is an escaped quote
            j = i + 1
            buf = bytearray()
            while j < n:
                if text[j] == 0x27:
                    if j + 1 < n and text[j + 1] == 0x27:
                        buf.append(0x27)
                        j += 2
                        continue
                    break
                buf.append(text[j])
                j += 1
            if depth == 0:
                current = _decode(bytes(buf))
            i = j + 1
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            if depth == 0:
                args.append(current)
                return args
            depth -= 1
        elif c == 0x2C and depth == 0:
            args.append(current)
            current = None
        elif c == 0x23 and depth == 0:
            m = re.match(rb"#(\d+)", text[i:i + 24])
            if m:
                current = "#" + m.group(1).decode()
                i += len(m.group(0))
                continue
        i += 1
    return None


def _decode(raw: bytes) -> str:
    r"""A STEP string's text: ``\X2\hhhh...\X0\`` (UTF-16), ``\X\hh`` (Latin-1), ``\S\c``."""
    s = raw.decode("latin-1")
    s = re.sub(r"\\X2\\((?:[0-9A-Fa-f]{4})+)\\X0\\",
               lambda m: bytes.fromhex(m.group(1)).decode("utf-16-be", "replace"), s)
    s = re.sub(r"\\X\\([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), s)
    s = re.sub(r"\\S\\(.)", lambda m: chr(ord(m.group(1)) + 128), s)
    return s.replace("\\\\", "\\")


def occurrence_names(data: bytes) -> dict[str, str]:
    """Occurrence id (and OpenCascade tag name) -> the product name it places, for every
    assembly occurrence whose product has a name; ids that place different products are left
    out (ambiguous)."""
    if b"NEXT_ASSEMBLY_USAGE_OCCURRENCE" not in data.upper():
        return {}
    entities: dict[str, tuple[str, list[str | None]]] = {}
    for m in _ENTITY.finditer(data):
        args = _arguments(data, m.end())
        if args is not None:
            entities["#" + m.group(1).decode()] = (m.group(2).decode().upper(), args)

    def arg(ref: str | None, kind: str, index: int) -> str | None:
        ent = entities.get(ref or "")
        if ent is None or not ent[0].startswith(kind) or len(ent[1]) <= index:
            return None
        return ent[1][index]

    out: dict[str, str] = {}
    clash: set[str] = set()
    for kind, args in entities.values():
        if kind != "NEXT_ASSEMBLY_USAGE_OCCURRENCE" or len(args) < 5:
            continue
        product = arg(arg(arg(args[4], "PRODUCT_DEFINITION", 2), "PRODUCT_DEFINITION_FORMATION",
                          2), "PRODUCT", 1)
        product = product or arg(arg(arg(args[4], "PRODUCT_DEFINITION", 2),
                                     "PRODUCT_DEFINITION_FORMATION", 2), "PRODUCT", 0)
        if not product or not product.strip():
            continue
        keys = [k for k in (args[0], args[1]) if k and k.strip()]
        keys = [keys[0]] + [k for k in keys[1:] if _TAG_NAME.match(k)] if keys else []
        for key in keys:
            if out.get(key, product) != product:
                clash.add(key)
            out[key] = product.strip()
    for key in clash:
        out.pop(key, None)
    return out


def rename_occurrences(parts: Iterable[Part], names: dict[str, str]) -> None:
    """Name each part (and the groups above it) after its product instead of its occurrence
    id (in place); ``unique_names`` later tells repeated products apart."""
    if not names:
        return

    def product(name: str) -> str:
        if name in names:
            return names[name]
        base = _DEDUP.sub("", name)  # trimesh tells repeated node names apart with _1, _2
        return names.get(base, name)

    for part in parts:
        part.name = product(part.name)
        part.path = tuple(product(p) for p in part.path)


def step_product_names(path: Path) -> dict[str, str]:
    """:func:`occurrence_names` of a STEP file."""
    return occurrence_names(path.read_bytes())
