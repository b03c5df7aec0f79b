// The element table of a tiled model (docs/tiles.md T6): `elements.json.gz` (gzip JSON columns:
// GlobalId, name, class, container, triangles; bounds in whole millimetres) and property sets in
// chunk files (`props/0000.json.gz`: rows 0..1023 as indices into the chunk's distinct sets)
// fetched on demand and kept in a small LRU cache. Table version 1 (plain `elements.json`,
// float32 `elements.bin`, rows as objects) still reads. The table is decoded in a worker
// (elementworker.js) into typed columns handed over by transfer (elementcodec.js), so neither
// its JSON parse nor its per-element setup runs on the main thread; rows are read from the
// columns on demand. No three.js here: unit-tested with node --test.
import {
  StringColumn, decodeTable, lookupKey, packTable, parseJsonBytes,
} from './elementcodec.js';

export { boundsFromColumns, elementKeys, parseJsonBytes } from './elementcodec.js';

let worker = null; // the shared element worker; false where it cannot start
let nextJob = 1;
const jobs = new Map(); // id -> {resolve, reject}

/** The element worker, or null where module workers cannot start (decoded in-thread then). */
function elementWorker() {
  if (worker !== null) return worker || null;
  try {
    if (typeof Worker !== 'function') throw new Error('no workers');
    worker = new Worker(new URL('./elementworker.js', import.meta.url), { type: 'module' });
    worker.addEventListener('message', ({ data }) => {
      const job = jobs.get(data?.id);
      if (!job) return;
      jobs.delete(data.id);
      if (data.error) job.reject(new Error(data.error));
      else job.resolve(data.packed);
    });
    worker.addEventListener('error', (ev) => {
      // The script did not load (or died): decode in-thread from now on.
      console.warn('element worker failed; decoding on the main thread:', ev?.message ?? ev);
      worker = false;
      for (const job of jobs.values()) job.fallBack();
      jobs.clear();
    });
  } catch {
    worker = false;
  }
  return worker || null;
}

/**
 * Typed columns of the table file `bytes` (and v1 `bounds` bytes): decoded in the element
 * worker (the buffers move there and back, no copy), else in-thread. `where` says which.
 */
export async function decodeElements(bytes, bounds = null) {
  const w = elementWorker();
  const inThread = async () => ({ ...(await decodeTable(bytes, bounds)).packed, where: 'main' });
  if (!w) return inThread();
  const buf = bytes instanceof ArrayBuffer ? bytes : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  // Keep copies only for the fall-back path (the originals are transferred).
  return new Promise((resolve, reject) => {
    const id = nextJob;
    nextJob += 1;
    const keep = { bytes: buf.slice(0), bounds: bounds ? bounds.slice(0) : null };
    jobs.set(id, {
      resolve: (packed) => resolve({ ...packed, where: 'worker' }),
      reject,
      fallBack: () => decodeTable(keep.bytes, keep.bounds).then(({ packed }) => resolve({ ...packed, where: 'main' }), reject),
    });
    w.postMessage({ id, bytes: buf, bounds }, [buf, ...(bounds ? [bounds] : [])]);
  });
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
    const t = json?.packed === true ? json : packTable(json, bounds).packed;
    this.count = t.count;
    this.classes = t.classes;
    this.containers = t.containers;
    this.strings = Object.fromEntries(Object.entries(t.strings).map(([k, v]) => [k, new StringColumn(v)]));
    this.classCodes = t.hasClass ? t.class : null;
    this.containerCodes = t.hasContainer ? t.container : null;
    this.triangles = t.triangles;
    this.bounds = t.bounds;
    this.keySlots = t.keyIndex;
    this.decodedIn = t.where ?? 'main';
    this.decodeMs = t.decodeMs ?? null;
    this.chunkSize = chunkSize > 0 ? chunkSize : 1024;
    this.chunkUrl = chunkUrl;
    this.fetchJson = fetchJson;
    this.chunks = new ChunkCache(cacheChunks);
    this.props = new Map(); // row -> property sets of the chunks loaded so far (small rows only)
    this._keyAt = (i) => this.strings.key.get(i);
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
    const url = new URL(spec.file, root).href;
    // A compressed table is decoded off the main thread (bytes in, typed columns out).
    const bytesPath = spec.encoding === 'gzip' && Boolean(fetchBuffer);
    const [table, buf] = await Promise.all([bytesPath ? fetchBuffer(url) : fetchJson(url), boundsBuf]);
    const packed = bytesPath ? await decodeElements(table, buf) : table;
    const bounds = !bytesPath && buf ? new Float32Array(buf) : null;
    const pattern = typeof spec.props === 'string' ? spec.props : 'props/{chunk}.json';
    const chunkUrl = (n) => new URL(pattern.replace('{chunk}', String(n).padStart(4, '0')), root).href;
    return new ElementTable(packed, { bounds, chunkSize: spec.chunk_size ?? 1024, chunkUrl, fetchJson: read });
  }

  /** Row index of a protocol node id, or -1. */
  indexOf(key) {
    return lookupKey(this.keySlots, key, this._keyAt);
  }

  key(i) {
    return this.strings.key.get(i);
  }

  /** The element's summary row (no property sets), or null when out of range. */
  row(i) {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) return null;
    const s = this.strings;
    const cls = this.classCodes ? this.classCodes[i] : -1;
    const container = this.containerCodes ? this.containerCodes[i] : -1;
    const tris = this.triangles ? this.triangles[i] : NaN;
    return {
      index: i,
      key: this.key(i),
      element_id: s.globalId?.get(i) ?? null,
      name: s.name?.get(i) ?? null,
      ifc_class: cls >= 0 ? (this.classes[cls] ?? null) : null,
      container: container >= 0 ? (this.containers[container] ?? null) : null,
      geometry_hash: s.geometryHash?.get(i) ?? null,
      triangles: Number.isNaN(tris) ? null : tris,
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
