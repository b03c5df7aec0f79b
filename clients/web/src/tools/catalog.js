// Every element of the displayed model, for the tools that work on all of them (model tree,
// search, colour by property): a tiled (v2) model's element table (docs/tiles.md T6) or a v1
// model's part list, behind one interface. Summaries (node id, name, GlobalId, class, spatial
// path) are there at once; property sets are loaded on demand, chunk by chunk, so a
// 20k-element model never blocks the page for more than one chunk (1024 rows) at a time.

/** The spatial path of a tiled element: its container "Site / Building / Level 0" split. */
export function containerPath(container) {
  return typeof container === 'string' && container ? container.split(' / ').map((s) => s.trim()).filter(Boolean) : [];
}

/** Wait for the next task, so a long scan lets the page draw and take input between chunks. */
const yieldToPage = () => new Promise((resolve) => setTimeout(resolve, 0));

export class ModelCatalog {
  /**
   * @param {object} source {count, summary(i) -> {node, name, element_id, ifc_class, path},
   *   chunkCount, chunkRows(n) -> Promise<{start, rows}>} (see fromModel)
   */
  constructor(source) {
    this.source = source;
    this.count = source.count;
    this._entries = null;
    this.loaded = 0; // rows whose property sets are in `entries`
    this._loading = null;
  }

  /** The catalog of a ModelView's displayed model, made once per model (null while none). */
  static of(model) {
    const key = model.tiled?.elements ?? (model.display && model.parts?.size ? model.display : null);
    if (!key) return null;
    if (!CATALOGS.has(key)) CATALOGS.set(key, new ModelCatalog(model.tiled?.elements ? tiledSource(model.tiled.elements) : partsSource(model)));
    return CATALOGS.get(key);
  }

  /** Element summaries in row order: {node, name, element_id, ifc_class, path, properties}
   * (properties: null until loaded). */
  entries() {
    if (!this._entries) {
      this._entries = new Array(this.count);
      for (let i = 0; i < this.count; i += 1) this._entries[i] = { ...this.source.summary(i), properties: null };
    }
    return this._entries;
  }

  get complete() {
    return this.loaded >= this.count;
  }

  /** Load every element's property sets; `onChunk(from, to)` after each chunk. Resolves when
   * all are loaded (one load at a time: a second caller shares the first's promise). */
  loadProperties(onChunk = () => {}) {
    const listeners = (this._listeners ??= new Set());
    listeners.add(onChunk);
    if (!this._loading) {
      this._loading = (async () => {
        const entries = this.entries();
        for (let n = 0; n < this.source.chunkCount; n += 1) {
          const { start, rows } = await this.source.chunkRows(n);
          for (let k = 0; k < rows.length; k += 1) if (entries[start + k]) entries[start + k].properties = rows[k] ?? {};
          this.loaded = Math.min(this.count, start + rows.length);
          for (const fn of listeners) fn(start, start + rows.length);
          await yieldToPage();
        }
        this.loaded = this.count;
      })();
      this._loading.catch(() => { this._loading = null; });
    }
    return this._loading;
  }
}

const CATALOGS = new WeakMap();

function tiledSource(table) {
  return {
    count: table.count,
    summary(i) {
      const r = table.row(i);
      return { node: r.key, name: r.name ?? r.key, element_id: r.element_id, ifc_class: r.ifc_class, path: containerPath(r.container) };
    },
    chunkCount: table.chunkCount,
    chunkRows: (n) => table.chunkRows(n),
  };
}

function partsSource(model) {
  const nodes = [...model.parts.keys()];
  const infos = nodes.map((n) => model.partInfo(n));
  return {
    count: nodes.length,
    summary(i) {
      const node = nodes[i];
      const info = infos[i] ?? {};
      const part = model.parts.get(node);
      // v1: the spatial path is the named glTF groups above the part.
      const obj = model.displayObject(node) ?? [...(part?.objects ?? [])][0];
      const path = [];
      for (let o = obj?.parent; o && o !== model.display && o !== model.root; o = o.parent) if (o.name) path.unshift(o.name);
      return { node, name: info.name ?? node, element_id: info.element_id ?? null, ifc_class: info.ifc_class ?? null, path };
    },
    chunkCount: 1,
    chunkRows: async () => ({ start: 0, rows: infos.map((info) => info?.properties ?? {}) }),
  };
}
