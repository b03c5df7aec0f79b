// The Model tab: spatial tree (model / site / building / storey / class / element) with counts
// and visibility toggles (one's own view), and search by name, GlobalId, class or property
// value. The tree is one flat, virtualised list: only the rows in view are in the page, so a
// 20k-element model scrolls and searches without freezing.
import { el, mount } from './dom.js';
import { search, groupNodes } from '../tools/tree.js';

/** Height of one row (CSS `.tree-row`), and rows drawn beyond the visible ones. */
export const ROW_PX = 26;
const OVERSCAN = 12;
/** Pause in typing before the search runs. */
const SEARCH_DELAY_MS = 120;
/** Rows drawn before the list has a size (a hidden tab). */
const FIRST_ROWS = 60;

export class ModelTree {
  /** @param {object} app {index(), isHidden(node), setHidden(nodes, hidden), flyToPart(node),
   *   status() -> string|null (e.g. "searching properties: 3/20 chunks")} */
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.query = '';
    this.expanded = new Set(['']); // group ids ('' is the model itself)
    this.rows = [];
    this.index = null;
  }

  render() {
    const index = this.app.index();
    this.index = index;
    if (!index) {
      mount(this.root, el('div', { class: 'empty' }, 'The model is loading…'));
      return;
    }
    const input = el('input', { type: 'search', id: 'tree-search', placeholder: 'Search name, GlobalId, class or value', 'aria-label': 'Search the model', value: this.query });
    this.statusEl = el('div', { class: 'hint', id: 'tree-count' });
    this.spacer = el('div', { class: 'tree-spacer' });
    this.list = el('div', { class: 'tree-scroll', id: 'tree-body', role: 'tree' }, this.spacer);
    let queued = null;
    this.list.addEventListener('scroll', () => {
      queued ??= requestAnimationFrame(() => {
        queued = null;
        this._draw();
      });
    });
    // Searching 20k elements takes tens of milliseconds: once typing pauses, not per key.
    let typing = null;
    input.addEventListener('input', () => {
      this.query = input.value;
      clearTimeout(typing);
      typing = setTimeout(() => {
        this.list.scrollTop = 0;
        this.refresh();
      }, SEARCH_DELAY_MS);
    });
    mount(this.root, input, this.statusEl, this.list);
    this.refresh();
  }

  /** Recompute the rows (the search or the expanded groups) and draw the visible ones. */
  refresh() {
    if (!this.index || !this.list?.isConnected) return;
    const status = this.app.status?.() ?? null;
    if (this.query.trim()) {
      const { results, total } = search(this.index, this.query, Infinity);
      this.rows = results.map((r) => ({ leaf: r.node, name: r.name, cls: r.ifc_class, depth: 0 }));
      this.statusEl.textContent = `${total} found${status ? ` · ${status}` : ''}`;
    } else {
      this.rows = [];
      this._flatten(this.index.root, '', 0);
      this.statusEl.textContent = status ?? '';
    }
    this.spacer.style.height = `${this.rows.length * ROW_PX}px`;
    this._draw();
  }

  _flatten(g, id, depth) {
    this.rows.push({ group: g, id, depth });
    if (!this.expanded.has(id)) return;
    for (const c of g.children.values()) this._flatten(c, `${id}\u0000${c.name}`, depth + 1);
    for (const n of g.nodes) this.rows.push({ leaf: n, depth: depth + 1 });
  }

  /** Put the rows in view (plus a margin) into the page, absolutely placed over the spacer. */
  _draw() {
    const h = this.list.clientHeight;
    const top = this.list.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW_PX) - OVERSCAN);
    const last = Math.min(this.rows.length, h ? Math.ceil((top + h) / ROW_PX) + OVERSCAN : FIRST_ROWS);
    const out = [];
    for (let i = first; i < last; i += 1) {
      const r = this.rows[i];
      const row = r.group ? this._group(r) : this._leaf(r);
      row.style.top = `${i * ROW_PX}px`;
      row.style.paddingLeft = `${4 + r.depth * 12}px`;
      out.push(row);
    }
    mount(this.spacer, out);
  }

  _group({ group: g, id }) {
    const open = this.expanded.has(id);
    const toggle = () => {
      if (open) this.expanded.delete(id); else this.expanded.add(id);
      this.refresh();
    };
    return el('div', { class: `tree-row tree-group${open ? ' open' : ''}`, dataset: { group: g.name }, role: 'treeitem', 'aria-expanded': String(open) },
      el('button', { class: 'twist', 'aria-label': open ? 'Collapse' : 'Expand', onclick: toggle }, open ? '▾' : '▸'),
      el('span', { class: 'nm', onclick: toggle }, g.name),
      el('span', { class: 'count' }, String(g.count)),
      this._eye(() => (g.all ??= groupNodes(g))));
  }

  _leaf({ leaf: node, name, cls }) {
    const item = this.index.byNode?.get(node);
    return el('div', { class: 'tree-row tree-leaf', dataset: { node }, role: 'treeitem' },
      el('button', { class: 'link', onclick: () => this.app.flyToPart(node) }, name ?? item?.name ?? node),
      el('span', { class: 'k' }, cls ?? item?.ifc_class ?? ''),
      this._eye(() => [node]));
  }

  _eye(nodesOf) {
    const b = el('button', { class: 'btn small eye', title: 'Show or hide (for you)', 'aria-label': 'Show or hide for you' }, 'Hide');
    const sync = () => {
      b.textContent = nodesOf().every((n) => this.app.isHidden(n)) ? 'Show' : 'Hide';
    };
    b.addEventListener('click', (e) => {
      e.preventDefault();
      e.stopPropagation();
      const nodes = nodesOf();
      this.app.setHidden(nodes, !nodes.every((n) => this.app.isHidden(n)));
      this._draw();
    });
    sync();
    return b;
  }
}
