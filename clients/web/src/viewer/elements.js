// The element table of a tiled model (docs/tiles.md T6): `elements.json.gz` (gzip JSON columns:
// GlobalId, name, class, container, triangles; bounds in whole millimetres) and property sets in
// chunk files (`props/0000.json.gz`: rows 0..1023 as indices into the chunk's distinct sets)
// fetched on demand and kept in a small LRU cache. Table version 1 (plain `elements.json`,
// float32 `elements.bin`, rows as objects) still reads. No three.js here: unit-tested with
// node --test.

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

/** Row i of a property chunk: version 2 rows index the chunk's `[name, values]` sets. */
export function chunkRow(chunk, i) {
  const row = Array.isArray(chunk?.rows) ? chunk.rows[i] : undefined;
  if (!Array.isArray(row)) return row ?? {};
  const sets = Array.isArray(chunk.sets) ? chunk.sets : [];
  const out = {};
  for (const k of row) {
    const s = sets[k];
    if (Array.isArray(s) && typeof s[0] === 'string') out[s[0]] = s[1];
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

/** Least-recently-used cache of promises keyed by chunk number. */
export class ChunkCache {
  constructor(capacity = 16) {
    this.capacity = Math.max(1, capacity);
    this.map = new Map();
    this.fetches = 0;
  }

  /** The cached value for `key`, or `load(key)` (a promise) stored and returned. */
  get(key, load) {
    const hit = this.map.get(key);
    if (hit) {
      this.map.delete(key);
      this.map.set(key, hit);
      return hit;
    }
    this.fetches += 1;
    const p = Promise.resolve().then(() => load(key));
    // A failed fetch is not cached: the next request tries again.
    p.catch(() => { if (this.map.get(key) === p) this.map.delete(key); });
    this.map.set(key, p);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value);
    return p;
  }

  has(key) {
    return this.map.has(key);
  }

  get size() {
    return this.map.size;
  }
}

export class ElementTable {
  /**
   * @param {object} json     parsed elements.json
   * @param {object} opts     {bounds: Float32Array|null, chunkSize, chunkUrl(n) -> url,
   *                           fetchJson(url) -> Promise<object>, cacheChunks}
   */
  constructor(json, { bounds = null, chunkSize = 1024, chunkUrl = null, fetchJson = null, cacheChunks = 16 } = {}) {
    if (!json || typeof json !== 'object' || !Number.isInteger(json.count) || json.count < 0 || !json.columns) {
      throw new Error('not an element table');
    }
    this.count = json.count;
    this.columns = json.columns;
    this.classes = Array.isArray(json.classes) ? json.classes : [];
    this.containers = Array.isArray(json.containers) ? json.containers : [];
    for (const [name, col] of Object.entries(this.columns)) {
      if (!Array.isArray(col) || col.length !== this.count) throw new Error(`element column ${name}: expected ${this.count} rows`);
    }
    const own = bounds ?? boundsFromColumns(json.bounds, this.count);
    this.bounds = own && own.length >= this.count * 6 ? own : null;
    this.chunkSize = chunkSize > 0 ? chunkSize : 1024;
    this.chunkUrl = chunkUrl;
    this.fetchJson = fetchJson;
    this.chunks = new ChunkCache(cacheChunks);
    this.props = new Map(); // row -> property sets of the chunks loaded so far (small rows only)
    this.keyList = elementKeys(this.columns.name, this.columns.globalId, this.count);
    this.keys = new Map(this.keyList.map((k, i) => [k, i]));
  }

  /** Load from the manifest's `elements` entry (URLs resolved against the manifest URL). */
  static async load(manifest, manifestUrl, fetchJson, fetchBuffer = null, base = 'http://localhost/') {
    const spec = manifest.elements;
    if (!spec || typeof spec.file !== 'string') throw new Error('manifest names no element table');
    const root = new URL(manifestUrl, base);
    // Compressed tables (version 2) are read as bytes and gunzipped here.
    const read = spec.encoding === 'gzip' && fetchBuffer
      ? async (u) => parseJsonBytes(await fetchBuffer(u)) : fetchJson;
    // v1 bounds file: an optimisation (framing an element): the table works without it.
    const boundsBuf = fetchBuffer && typeof spec.bounds === 'string'
      ? fetchBuffer(new URL(spec.bounds, root).href).catch(() => null) : Promise.resolve(null);
    const [json, buf] = await Promise.all([read(new URL(spec.file, root).href), boundsBuf]);
    const bounds = buf ? new Float32Array(buf) : null;
    const pattern = typeof spec.props === 'string' ? spec.props : 'props/{chunk}.json';
    const chunkUrl = (n) => new URL(pattern.replace('{chunk}', String(n).padStart(4, '0')), root).href;
    return new ElementTable(json, { bounds, chunkSize: spec.chunk_size ?? 1024, chunkUrl, fetchJson: read });
  }

  /** Row index of a protocol node id, or -1. */
  indexOf(key) {
    const i = this.keys.get(key);
    return i === undefined ? -1 : i;
  }

  key(i) {
    return this.keyList[i] ?? null;
  }

  /** The element's summary row (no property sets), or null when out of range. */
  row(i) {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) return null;
    const c = this.columns;
    const cls = c.class?.[i];
    const container = c.container?.[i];
    return {
      index: i,
      key: this.key(i),
      element_id: c.globalId?.[i] ?? null,
      name: c.name?.[i] ?? null,
      ifc_class: Number.isInteger(cls) && cls >= 0 ? (this.classes[cls] ?? null) : (typeof cls === 'string' ? cls : null),
      container: Number.isInteger(container) && container >= 0 ? (this.containers[container] ?? null) : null,
      geometry_hash: c.geometryHash?.[i] ?? null,
      triangles: c.triangles?.[i] ?? null,
    };
  }

  /** World-frame bounds [minx, miny, minz, maxx, maxy, maxz] of an element, or null. */
  box(i) {
    if (!this.bounds || i < 0 || i >= this.count) return null;
    return Array.from(this.bounds.subarray(i * 6, i * 6 + 6));
  }

  /** Property sets already loaded for row i (undefined when its chunk is not loaded yet). */
  cachedProperties(i) {
    return this.props.get(i);
  }

  /** How many property chunks the table has. */
  get chunkCount() {
    return Math.ceil(this.count / this.chunkSize);
  }

  /** Property sets of chunk n's rows: {start, rows} (fetched once; {} rows when there are none). */
  async chunkRows(n) {
    const start = n * this.chunkSize;
    const size = Math.max(0, Math.min(this.chunkSize, this.count - start));
    if (!this.chunkUrl || !this.fetchJson || n < 0 || size === 0) return { start, rows: new Array(size).fill({}) };
    const chunk = await this.chunks.get(n, (k) => this.fetchJson(this.chunkUrl(k)));
    const from = Number.isInteger(chunk?.start) ? chunk.start : start;
    const rows = new Array(size);
    for (let i = 0; i < size; i += 1) {
      const r = chunkRow(chunk, start + i - from); // version 2 rows index the chunk's sets
      rows[i] = r && typeof r === 'object' && !Array.isArray(r) ? r : {};
    }
    return { start, rows };
  }

  /** The property sets of row i (fetches its chunk once; later rows of it come from memory). */
  async properties(i) {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) return null;
    if (this.props.has(i)) return this.props.get(i);
    if (!this.chunkUrl || !this.fetchJson) return {};
    const n = Math.floor(i / this.chunkSize);
    const chunk = await this.chunks.get(n, (k) => this.fetchJson(this.chunkUrl(k)));
    const start = Number.isInteger(chunk?.start) ? chunk.start : n * this.chunkSize;
    const value = chunkRow(chunk, i - start);
    // Keep only what the UI asked for (hover walks many rows; a chunk is cheap to fetch again).
    this.props.set(i, value);
    if (this.props.size > this.chunkSize * 4) this.props.delete(this.props.keys().next().value);
    return value;
  }
}
