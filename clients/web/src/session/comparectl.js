// Compare versions in 3D: against another version of the room's model, elements added (green)
// and changed (orange) are tinted in the model on screen, removed ones are ghosted red boxes
// where they were; a list steps through them (flying to each). Our own view: nothing is sent.
import { COMPARE_COLORS } from '../colors.js';
import { diffVersions, hashHex, versionElements } from '../tools/compare.js';
import { el, mount, toast } from '../ui/dom.js';
import { boundsFromColumns, parseJsonBytes } from '../viewer/elements.js';
import { GhostBoxes } from '../viewer/ghosts.js';

/** Rows listed in the panel (Next / Previous step through all of them). */
const LIST_ROWS = 300;

/** A version's elements for comparing, from its manifest (v2: element table and hash file;
 * v1: manifest parts), with element boxes (v2, world frame) and the recentring offset. */
export async function loadVersionElements(manifestUrl, headers) {
  const get = async (url, kind) => {
    const res = await fetch(url, { headers, credentials: 'same-origin' });
    if (!res.ok) throw new Error(`${new URL(url, location.href).pathname}: HTTP ${res.status}`);
    return kind === 'json' ? res.json() : res.arrayBuffer();
  };
  const base = new URL(manifestUrl, location.href);
  const manifest = await get(base.href, 'json');
  const offset = Array.isArray(manifest.offset) ? manifest.offset.map(Number) : [0, 0, 0];
  const spec = manifest.elements;
  if (manifest.version === 2 && spec?.file) {
    const rel = (f) => new URL(f, base).href;
    const [table, hashBuf, boundsBuf] = await Promise.all([
      // element table version 2 is gzip JSON (docs/tiles.md T6); version 1 plain JSON
      get(rel(spec.file), 'buffer').then(parseJsonBytes),
      spec.hashes ? get(rel(spec.hashes), 'buffer').catch(() => null) : null,
      spec.bounds ? get(rel(spec.bounds), 'buffer').catch(() => null) : null,
    ]);
    const count = table.count;
    const bounds = boundsBuf && boundsBuf.byteLength >= count * 24 ? new Float32Array(boundsBuf)
      : boundsFromColumns(table.bounds, count);
    return {
      manifest, offset, count,
      names: table.columns?.name ?? [], globalIds: table.columns?.globalId ?? [],
      hashes: hashHex(hashBuf, count) ?? [],
      box: (row) => (bounds ? Array.from(bounds.subarray(row * 6, row * 6 + 6)) : null),
      label: (row) => table.columns?.name?.[row] ?? table.columns?.globalId?.[row] ?? `#${row}`,
    };
  }
  const parts = Array.isArray(manifest.parts) ? manifest.parts : [];
  return {
    manifest, offset, count: parts.length,
    names: parts.map((p) => p.node ?? null), globalIds: parts.map((p) => p.element_id ?? null),
    hashes: parts.map((p) => p.geometry_hash ?? null),
    box: () => null,
    label: (row) => parts[row]?.name ?? parts[row]?.node ?? `#${row}`,
  };
}

export class CompareControl {
  /** @param {object} deps {cfg, conn, viewer, model, tools, bus, apply() (redraw our view)} */
  constructor({ cfg, conn, viewer, model, tools, bus, apply }) {
    Object.assign(this, { cfg, conn, viewer, model, tools, apply });
    this.ghosts = new GhostBoxes(viewer.scene);
    this.result = null; // {against, items: [{kind, node, key, label, box}], counts}
    this.colors = new Map(); // node id -> colour (added, changed)
    this.only = false; // show only the changes (the rest hidden, for us)
    this.current = -1;
    this.roomModel = null; // the room's model record (model_id, version_id, version, manifest_url)
    this.previousVersion = null; // the version the room was on before it last moved
    tools.register('compare', () => this.togglePanel());
    bus.on('welcome', (w) => { this.roomModel = w.room?.model ?? this.roomModel; });
    conn.on('model', (m) => {
      if (this.roomModel?.version_id && m?.version_id && m.version_id !== this.roomModel.version_id) {
        this.previousVersion = this.roomModel.version_id;
      }
      this.roomModel = m ?? null;
    });
    bus.on('unload', () => this.clear());
  }

  /** Node id -> colour override of the compare (drawn over our own view), or an empty map. */
  overlayColors() {
    return this.colors;
  }

  /** Nodes to keep when showing only the changes (null: everything). */
  overlayIsolation() {
    return this.only && this.result ? new Set(this.colors.keys()) : null;
  }

  async _versions() {
    const h = this.model.authHeaders();
    const room = await fetch(`/api/rooms/${encodeURIComponent(this.cfg.roomId)}`, { headers: h, credentials: 'same-origin' }).then((r) => (r.ok ? r.json() : null));
    const modelId = this.roomModel?.model_id ?? room?.model?.model_id;
    if (!room?.project_id || !modelId) return [];
    const models = await fetch(`/api/projects/${encodeURIComponent(room.project_id)}/models`, { headers: h, credentials: 'same-origin' }).then((r) => (r.ok ? r.json() : []));
    const m = (Array.isArray(models) ? models : []).find((x) => x.model_id === modelId);
    return (m?.versions ?? []).filter((v) => v.status === 'ready' && v.manifest_url);
  }

  /** Compare the model on screen with `version` ({version_id, number, manifest_url}; older or newer). */
  async compareWith(version) {
    const headers = this.model.authHeaders();
    const [other, mine] = await Promise.all([
      loadVersionElements(version.manifest_url, headers),
      loadVersionElements(this.model.manifestUrl, headers),
    ]);
    const diff = diffVersions(versionElements(other), versionElements(mine));
    const table = this.model.tiled?.elements ?? null;
    const nodeOf = (row) => (table ? table.key(row) : mine.names[row]);
    const items = [];
    for (const row of diff.added) items.push({ kind: 'added', node: nodeOf(row), element_id: mine.globalIds[row] ?? null, label: mine.label(row) });
    for (const row of diff.changed) items.push({ kind: 'changed', node: nodeOf(row), element_id: mine.globalIds[row] ?? null, label: mine.label(row) });
    // Removed elements: the old box, moved into our frame (the versions may be recentred apart).
    const shift = other.offset.map((v, i) => v - (mine.offset[i] ?? 0));
    for (const row of diff.removed) {
      const b = other.box(row);
      const box = b ? this.model.tableBoxToWorld([b[0] + shift[0], b[1] + shift[1], b[2] + shift[2], b[3] + shift[0], b[4] + shift[1], b[5] + shift[2]]) : null;
      items.push({ kind: 'removed', node: null, key: other.globalIds[row] ?? `node:${other.names[row]}`, element_id: other.globalIds[row] ?? null, label: other.label(row), box });
    }
    this.result = {
      against: { version_id: version.version_id, number: version.number },
      items, counts: { added: diff.added.length, changed: diff.changed.length, removed: diff.removed.length, unchanged: diff.unchanged },
    };
    this.colors = new Map(items.filter((i) => i.node).map((i) => [i.node, COMPARE_COLORS[i.kind]]));
    this.ghosts.set(items.filter((i) => i.kind === 'removed').map((i) => ({ box: i.box, color: COMPARE_COLORS.removed, id: i.key })));
    this.viewer.invalidate(); // the ghost boxes (apply() draws again only for element state)
    this.current = -1;
    this.apply();
    this._renderList();
    return this.result;
  }

  /** Stop comparing: colours, ghosts and the "only changes" filter go. */
  clear() {
    this.result = null;
    this.colors = new Map();
    this.only = false;
    this.current = -1;
    this.ghosts.clear();
    this.viewer.invalidate();
    document.getElementById('compare-ctl')?.remove();
    this.apply();
  }

  /** Fly to the i-th change. (Not selected: the selection highlight would hide its colour.) */
  focus(i) {
    const items = this.result?.items ?? [];
    if (!items.length) return;
    this.current = ((i % items.length) + items.length) % items.length;
    const it = items[this.current];
    const box = it.node ? this.model.elementBox(it.node) : it.box;
    if (box && !box.isEmpty()) this.viewer.flyToBox(box);
    this.viewer.invalidate();
    this._renderList();
  }

  step(d) {
    this.focus(this.current < 0 ? (d > 0 ? 0 : -1) : this.current + d);
  }

  async togglePanel() {
    if (document.getElementById('compare-ctl')) {
      this.clear();
      return;
    }
    const versions = (await this._versions()).filter((v) => v.manifest_url !== this.model.manifestUrl);
    if (!versions.length) {
      toast('This model has no other converted version to compare with.');
      return;
    }
    const mine = this.roomModel?.version ?? Infinity;
    const byDefault = versions.find((v) => v.version_id === this.previousVersion)
      ?? [...versions].reverse().find((v) => v.number < mine) ?? versions[versions.length - 1];
    const sel = el('select', { id: 'compare-against', 'aria-label': 'Compare with version' },
      versions.map((v) => el('option', { value: v.version_id }, `v${v.number} · ${v.source_name ?? ''}`)));
    sel.value = byDefault.version_id;
    const only = el('input', { type: 'checkbox', id: 'compare-only' });
    only.addEventListener('change', () => {
      this.only = only.checked;
      this.apply();
    });
    const run = () => {
      const v = versions.find((x) => x.version_id === sel.value);
      this._status('Comparing…');
      this.compareWith(v).catch((err) => this._status(`Could not compare: ${err.message ?? err}`));
    };
    sel.addEventListener('change', run);
    const box = el('div', { class: 'compare-ctl', id: 'compare-ctl' },
      el('div', { class: 'row' }, el('span', {}, 'Compare with'), sel,
        el('button', { class: 'btn small', id: 'compare-close', onclick: () => this.clear() }, 'Close')),
      el('div', { class: 'row' },
        el('button', { class: 'btn small', id: 'compare-prev', onclick: () => this.step(-1) }, '‹ Previous'),
        el('button', { class: 'btn small', id: 'compare-next', onclick: () => this.step(1) }, 'Next ›'),
        el('label', {}, only, ' Only changes')),
      el('div', { class: 'hint', id: 'compare-counts' }),
      el('div', { class: 'compare-list', id: 'compare-list' }));
    document.getElementById('stage').append(box);
    run();
  }

  _status(text) {
    const s = document.getElementById('compare-counts');
    if (s) s.textContent = text;
  }

  _renderList() {
    const list = document.getElementById('compare-list');
    if (!list || !this.result) return;
    const { counts, items } = this.result;
    this._status(`${counts.added} added · ${counts.changed} changed · ${counts.removed} removed · ${counts.unchanged} unchanged (against v${this.result.against.number})`);
    const rows = items.slice(0, LIST_ROWS).map((it, i) => el('button', {
      class: `compare-row ${it.kind}${i === this.current ? ' current' : ''}`,
      dataset: { kind: it.kind, node: it.node ?? '', key: it.key ?? '' },
      onclick: () => this.focus(i),
    }, el('span', { class: 'sw', style: { background: COMPARE_COLORS[it.kind] } }), el('span', {}, `${it.kind}: ${it.label}`)));
    mount(list, rows, items.length > LIST_ROWS ? el('div', { class: 'hint' }, `and ${items.length - LIST_ROWS} more (Next steps through all)`) : null);
  }

  /** For window.__vrcollab.info().compare. */
  describe() {
    if (!this.result) return null;
    return {
      against: this.result.against, counts: this.result.counts,
      items: this.result.items.map(({ kind, node, element_id: id, label }) => ({ kind, node, element_id: id, label })),
      ghosts: this.ghosts.describe().length, current: this.current, only: this.only,
    };
  }
}
