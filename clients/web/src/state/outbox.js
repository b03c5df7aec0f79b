// Outbox of durable ops not yet acknowledged, persisted so a dropped connection or a page reload
// loses nothing. Resending is safe: the server applies each op_id exactly once (R7).

const MAX_ITEMS = 1000;

/** A Storage-like object kept in memory (node tests, or when sessionStorage is unavailable). */
export class MemoryStorage {
  constructor() {
    this.map = new Map();
  }

  getItem(k) {
    return this.map.has(k) ? this.map.get(k) : null;
  }

  setItem(k, v) {
    this.map.set(k, String(v));
  }

  removeItem(k) {
    this.map.delete(k);
  }
}

export class Outbox {
  /**
   * @param {{storage?: Storage, key: string}} opts  storage is sessionStorage in the browser.
   */
  constructor({ storage = new MemoryStorage(), key }) {
    this.storage = storage;
    this.key = key;
    this.items = [];
    this.sent = new Set();
    this._load();
  }

  _load() {
    try {
      const raw = this.storage.getItem(this.key);
      const list = raw ? JSON.parse(raw) : [];
      this.items = Array.isArray(list)
        ? list.filter((o) => o && typeof o.op_id === 'string' && o.type === 'op')
        : [];
    } catch {
      this.items = [];
    }
  }

  _save() {
    try {
      if (this.items.length) this.storage.setItem(this.key, JSON.stringify(this.items));
      else this.storage.removeItem(this.key);
    } catch {
      // Storage full or unavailable: the in-memory queue still works for this page's lifetime.
    }
  }

  get size() {
    return this.items.length;
  }

  /** Queue an op message. Throws when the queue is full (the UI reports it). */
  add(opMsg) {
    if (this.items.some((o) => o.op_id === opMsg.op_id)) return false;
    if (this.items.length >= MAX_ITEMS) throw new Error('outbox full: too many unsent changes');
    this.items.push(opMsg);
    this._save();
    return true;
  }

  /** Drop an op after its ack or reject. */
  settle(opId) {
    const before = this.items.length;
    this.items = this.items.filter((o) => o.op_id !== opId);
    this.sent.delete(opId);
    if (this.items.length !== before) this._save();
  }

  /** Keep only the ops whose id is in `ids` (e.g. after a replay committed some of them). */
  retain(ids) {
    const keep = new Set(ids);
    const before = this.items.length;
    this.items = this.items.filter((o) => keep.has(o.op_id));
    if (this.items.length !== before) this._save();
  }

  /** A new connection starts: every queued op must be sent again. */
  resetSent() {
    this.sent.clear();
  }

  /** Ops queued but not yet sent on the current connection, in order; marks them sent. */
  takeUnsent() {
    const out = this.items.filter((o) => !this.sent.has(o.op_id));
    for (const o of out) this.sent.add(o.op_id);
    return out;
  }
}
