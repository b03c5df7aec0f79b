// The model tree tab on the displayed model's catalog (element table or part list): the index
// (built at once from summaries; property values join the search as their chunks load),
// visibility toggles (our own view), fly to an element.
import * as THREE from 'three';
import { buildIndex, indexProperties } from '../tools/tree.js';
import { ModelCatalog } from '../tools/catalog.js';
import { ModelTree } from '../ui/tree.js';

export class TreeControl {
  /** @param {object} deps {root (tab element), viewer, model, own, selection, apply() (redraw our view)} */
  constructor({ root, viewer, model, own, selection, apply }) {
    Object.assign(this, { viewer, model, own, selection, apply });
    this.catalog = null;
    this.tree = new ModelTree(root, {
      index: () => this.index(),
      isHidden: (n) => this.own.hidden.has(n),
      setHidden: (nodes, hide) => {
        for (const n of nodes) if (hide) this.own.hide(n); else this.own.hidden.delete(n);
        this.apply();
      },
      flyToPart: (n) => this.flyTo(n),
      status: () => this.status(),
    });
  }

  render() {
    this.tree.render();
  }

  /** The tree index of the displayed model (built once per model), or null while none. */
  index() {
    const cat = ModelCatalog.of(this.model);
    if (!cat) return null;
    if (this.catalog !== cat) {
      this.catalog = cat;
      const index = buildIndex(cat.entries());
      this._index = index;
      let queued = null;
      cat.loadProperties((from, to) => {
        if (this._index !== index) return;
        indexProperties(index, cat.entries(), from, to);
        queued ??= requestAnimationFrame(() => {
          queued = null;
          this.tree.refresh();
        });
      }).catch((err) => console.warn('model tree: property sets did not load', err));
    }
    return this._index;
  }

  /** "property values: 40 %" while the search does not cover every element's properties yet. */
  status() {
    const cat = this.catalog;
    if (!cat || cat.complete) return null;
    return `searching names now, property values ${Math.floor((100 * cat.loaded) / Math.max(1, cat.count))} % loaded`;
  }

  /** Select a part and fly to it. */
  flyTo(node) {
    const box = this.model.elementBox(node);
    this.selection.select(node);
    if (box && !box.isEmpty()) this.viewer.flyToPoint(box.getCenter(new THREE.Vector3()));
  }
}
