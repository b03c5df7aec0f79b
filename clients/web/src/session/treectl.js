// The model tree tab: its index of the displayed model, visibility toggles, fly to an element.
import * as THREE from 'three';
import { buildIndex } from '../tools/tree.js';
import { ModelTree } from '../ui/tree.js';

export class TreeControl {
  /** @param {object} deps {root (tab element), viewer, model, own, selection, apply() (redraw our view)} */
  constructor({ root, viewer, model, own, selection, apply }) {
    Object.assign(this, { viewer, model, own, selection, apply });
    this.tree = new ModelTree(root, {
      index: () => this.index(),
      partInfo: (n) => this.model.partInfo(n),
      isHidden: (n) => this.own.hidden.has(n),
      setHidden: (nodes, hide) => {
        for (const n of nodes) if (hide) this.own.hide(n); else this.own.hidden.delete(n);
        this.apply();
      },
      flyToPart: (n) => this.flyTo(n),
    });
  }

  render() {
    this.tree.render();
  }

  /** The model tree index of the displayed model (built once per model). */
  index() {
    const model = this.model;
    if (!model.display || !model.parts.size) return null;
    if (this._for === model.display) return this._index;
    const entries = [];
    for (const [node, part] of model.parts) {
      const info = model.partInfo(node);
      const obj = model.displayObject(node) ?? [...part.objects][0];
      const path = [];
      for (let o = obj?.parent; o && o !== model.display && o !== model.root; o = o.parent) if (o.name) path.unshift(o.name);
      entries.push({ ...info, path });
    }
    this._for = model.display;
    this._index = buildIndex(entries);
    return this._index;
  }

  /** Select a part and fly to it. */
  flyTo(node) {
    const obj = this.model.displayObject(node);
    if (!obj) return;
    this.selection.select(node);
    const box = new THREE.Box3().setFromObject(obj);
    if (!box.isEmpty()) this.viewer.flyToPoint(box.getCenter(new THREE.Vector3()));
  }
}
