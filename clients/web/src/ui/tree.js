// The Model tab: spatial tree (site / building / storey / class / element) with counts and
// visibility toggles (one's own view), and search by name, GlobalId, class or property value.
// Groups open lazily, so a 20k-element model draws only what is expanded.
import { el, mount } from './dom.js';
import { search, groupNodes } from '../tools/tree.js';

export class ModelTree {
  /** @param {object} app {index(), isHidden(node), setHidden(nodes, hidden), flyToPart(node)} */
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.query = '';
  }

  render() {
    const index = this.app.index();
    if (!index) {
      mount(this.root, el('div', { class: 'empty' }, 'The model is loading…'));
      return;
    }
    const input = el('input', { type: 'search', id: 'tree-search', placeholder: 'Search name, GlobalId, class or value', 'aria-label': 'Search the model', value: this.query });
    const body = el('div', { id: 'tree-body' });
    input.addEventListener('input', () => {
      this.query = input.value;
      this._body(body, index);
    });
    mount(this.root, input, body);
    this._body(body, index);
  }

  _body(body, index) {
    if (this.query.trim()) {
      const { results, total } = search(index, this.query);
      mount(body,
        el('div', { class: 'hint', id: 'tree-count' }, `${total} found${total > results.length ? ` (first ${results.length})` : ''}`),
        results.map((r) => this._leaf(r.node, r.name, r.ifc_class)));
      return;
    }
    mount(body, [...index.root.children.values()].map((g) => this._group(g)));
  }

  _group(g) {
    const box = el('details', { class: 'tree-group', dataset: { group: g.name } });
    const eye = this._eye(() => groupNodes(g));
    box.append(el('summary', {}, el('span', { class: 'nm' }, g.name), el('span', { class: 'count' }, String(g.count)), eye));
    box.addEventListener('toggle', () => {
      if (!box.open || box.dataset.filled) return;
      box.dataset.filled = '1';
      box.append(...[...g.children.values()].map((c) => this._group(c)), ...g.nodes.slice(0, 2000).map((n) => this._leaf(n)));
    }, { once: false });
    return box;
  }

  _leaf(node, name, cls) {
    const info = this.app.partInfo(node);
    const row = el('div', { class: 'tree-leaf', dataset: { node } },
      el('button', { class: 'link', onclick: () => this.app.flyToPart(node) }, name ?? info?.name ?? node),
      el('span', { class: 'k' }, cls ?? info?.ifc_class ?? ''),
      this._eye(() => [node]));
    return row;
  }

  _eye(nodesOf) {
    const b = el('button', { class: 'btn small eye', title: 'Show or hide (for you)', 'aria-label': 'Show or hide for you' }, 'Hide');
    const sync = () => {
      const hidden = nodesOf().every((n) => this.app.isHidden(n));
      b.textContent = hidden ? 'Show' : 'Hide';
    };
    b.addEventListener('click', (e) => {
      e.preventDefault();
      e.stopPropagation();
      const nodes = nodesOf();
      const hide = !nodes.every((n) => this.app.isHidden(n));
      this.app.setHidden(nodes, hide);
      sync();
    });
    sync();
    return b;
  }
}
