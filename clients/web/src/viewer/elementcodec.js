// Decoding an element table (docs/tiles.md T6) into columns of typed arrays: gunzip, JSON
// parse, node ids, bounds and a key hash index, done where it does not stall a frame (the
// element worker, elementworker.js; in-thread where no worker starts). The result holds only
// typed arrays and short string lists, so a worker hands it over by transfer, not by copy, and
// the main thread pays nothing per element until a row is read. No three.js, no DOM.

/** JSON from bytes that may be gzip-compressed (magic 1f 8b), via DecompressionStream. */
export async function parseJsonBytes(buf) {
  let bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** Float32 boxes (6 per element) from a version 2 table's millimetre `bounds` columns. */
export function boundsFromColumns(b, count) {
  if (!b || !Array.isArray(b.min) || !Array.isArray(b.size)) return null;
  const unit = Number(b.unit) || 0.001;
  const o = Array.isArray(b.origin) ? b.origin : [0, 0, 0];
  const out = new Float32Array(count * 6);
  for (let k = 0; k < 3; k += 1) {
    const lo = b.min[k] ?? [];
    const size = b.size[k] ?? [];
    if (lo.length < count || size.length < count) return null;
    for (let i = 0; i < count; i += 1) {
      out[i * 6 + k] = o[k] + lo[i] * unit;
      out[i * 6 + 3 + k] = o[k] + (lo[i] + size[i]) * unit;
    }
  }
  return out;
}

/**
 * Protocol node ids of all elements: the element's name when it is unique in the table (the
 * writer keeps v1's unique node names, and the server re-anchors by `node:<name>`), else its
 * IFC GlobalId, else `#<row>`; never two elements with one id.
 */
export function elementKeys(names, globalIds, count) {
  const seen = new Map();
  for (let i = 0; i < count; i += 1) {
    const n = names?.[i];
    if (typeof n === 'string' && n) seen.set(n, (seen.get(n) ?? 0) + 1);
  }
  const used = new Set();
  const keys = new Array(count);
  for (let i = 0; i < count; i += 1) {
    const n = names?.[i];
    const g = globalIds?.[i];
    let k = typeof n === 'string' && n && seen.get(n) === 1 ? n : null;
    if (k === null || used.has(k)) k = typeof g === 'string' && g && !used.has(g) ? g : `#${i}`;
    used.add(k);
    keys[i] = k;
  }
  return keys;
}

/** 32-bit FNV-1a over a string's UTF-16 code units (the key index's hash, both sides). */
export function hashString(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i += 1) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Strings (or null) as one UTF-8 buffer + offsets; `nulls[i]` is 1 where the value is null. */
export function packStrings(values, count) {
  const enc = new TextEncoder();
  let room = 0;
  for (let i = 0; i < count; i += 1) if (typeof values[i] === 'string') room += values[i].length * 3;
  const bytes = new Uint8Array(room);
  const offsets = new Uint32Array(count + 1);
  const nulls = new Uint8Array(count);
  let at = 0;
  for (let i = 0; i < count; i += 1) {
    const v = values[i];
    if (typeof v === 'string') at += enc.encodeInto(v, bytes.subarray(at)).written;
    else nulls[i] = 1;
    offsets[i + 1] = at;
  }
  return { bytes: bytes.slice(0, at), offsets, nulls };
}

/** Reads a packed string column; each row is decoded once, on first use. */
export class StringColumn {
  constructor({ bytes, offsets, nulls }) {
    this.bytes = bytes;
    this.offsets = offsets;
    this.nulls = nulls;
    this.length = nulls.length;
    this.cache = [];
    this.decoder = new TextDecoder();
  }

  get(i) {
    if (!(i >= 0 && i < this.length) || this.nulls[i]) return null;
    let v = this.cache[i];
    if (v === undefined) {
      v = this.decoder.decode(this.bytes.subarray(this.offsets[i], this.offsets[i + 1]));
      this.cache[i] = v;
    }
    return v;
  }
}

/** Open-addressing hash index (row numbers, -1 empty) over the keys. */
export function keyIndex(keys) {
  let size = 2;
  while (size < keys.length * 2) size *= 2;
  const slots = new Int32Array(size).fill(-1);
  const mask = size - 1;
  for (let i = 0; i < keys.length; i += 1) {
    let s = hashString(keys[i]) & mask;
    while (slots[s] !== -1) s = (s + 1) & mask;
    slots[s] = i;
  }
  return slots;
}

/** Row of `key` through the index (`keyAt(i)` reads row i's key), or -1. */
export function lookupKey(slots, key, keyAt) {
  if (typeof key !== 'string' || !slots.length) return -1;
  const mask = slots.length - 1;
  for (let s = hashString(key) & mask; ; s = (s + 1) & mask) {
    const i = slots[s];
    if (i === -1) return -1;
    if (keyAt(i) === key) return i;
  }
}

/** Integer-coded column (class, container): version 1 strings join the lookup list. */
function codes(col, list, count) {
  const out = new Int32Array(count).fill(-1);
  if (!Array.isArray(col)) return out;
  const extra = new Map();
  for (let i = 0; i < count; i += 1) {
    const v = col[i];
    if (Number.isInteger(v)) out[i] = v >= 0 && v < list.length ? v : -1;
    else if (typeof v === 'string') {
      let k = extra.get(v);
      if (k === undefined) {
        k = list.length;
        list.push(v);
        extra.set(v, k);
      }
      out[i] = k;
    }
  }
  return out;
}

const STRING_COLUMNS = ['globalId', 'name', 'geometryHash'];

/**
 * A parsed element table (`elements.json`, versions 1 and 2) as typed columns: `{packed,
 * transfer}`, `transfer` the buffers to hand over with postMessage. `bounds` (Float32Array,
 * 6 per element) is version 1's side file; version 2 bounds come from the table's columns.
 * Throws on a table whose columns disagree with its row count.
 */
export function packTable(json, bounds = null) {
  if (!json || typeof json !== 'object' || !Number.isInteger(json.count) || json.count < 0 || !json.columns || typeof json.columns !== 'object') {
    throw new Error('not an element table');
  }
  const count = json.count;
  const c = json.columns;
  for (const [name, col] of Object.entries(c)) {
    if (!Array.isArray(col) || col.length !== count) throw new Error(`element column ${name}: expected ${count} rows`);
  }
  const classes = (Array.isArray(json.classes) ? json.classes : []).map((v) => (typeof v === 'string' ? v : null));
  const containers = (Array.isArray(json.containers) ? json.containers : []).map((v) => (typeof v === 'string' ? v : null));
  const strings = {};
  for (const name of STRING_COLUMNS) if (c[name]) strings[name] = packStrings(c[name], count);
  const keys = elementKeys(c.name, c.globalId, count);
  strings.key = packStrings(keys, count);
  let triangles = null;
  if (c.triangles) {
    triangles = new Float64Array(count);
    for (let i = 0; i < count; i += 1) triangles[i] = Number.isFinite(c.triangles[i]) ? c.triangles[i] : NaN;
  }
  const own = bounds ?? boundsFromColumns(json.bounds, count);
  const packed = {
    packed: true, count, classes, containers, strings,
    class: codes(c.class, classes, count), container: codes(c.container, containers, count),
    hasClass: Boolean(c.class), hasContainer: Boolean(c.container),
    triangles, bounds: own && own.length >= count * 6 ? own : null, keyIndex: keyIndex(keys),
  };
  const transfer = [packed.class.buffer, packed.container.buffer, packed.keyIndex.buffer];
  for (const s of Object.values(strings)) transfer.push(s.bytes.buffer, s.offsets.buffer, s.nulls.buffer);
  if (triangles) transfer.push(triangles.buffer);
  if (packed.bounds && !bounds) transfer.push(packed.bounds.buffer);
  return { packed, transfer };
}

/** The table file's bytes (gzip or plain JSON) to typed columns; see packTable. */
export async function decodeTable(bytes, boundsBytes = null) {
  const json = await parseJsonBytes(bytes);
  const bounds = boundsBytes ? new Float32Array(boundsBytes) : null;
  const out = packTable(json, bounds);
  if (bounds && out.packed.bounds === bounds) out.transfer.push(bounds.buffer);
  return out;
}
