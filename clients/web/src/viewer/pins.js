// Annotation pins in the scene, numbered in panel order and coloured by status.
import * as THREE from 'three';
import { pinSprite, disposeSprite } from './labels.js';
import { STATUS_COLORS, DEFAULT_STATUS_COLOR } from '../colors.js';

export class Pins {
  constructor(scene) {
    this.group = new THREE.Group();
    this.group.name = 'pins';
    scene.add(this.group);
    this.items = new Map();
  }

  /** Rebuild from the ordered annotation list (cheap: sprites are reused when unchanged). */
  sync(list, selectedId) {
    const seen = new Set();
    list.forEach((a, i) => {
      seen.add(a.id);
      const key = `${i + 1}|${a.status}|${a.id === selectedId}`;
      let item = this.items.get(a.id);
      if (!item || item.key !== key) {
        if (item) this._drop(a.id);
        const sprite = pinSprite(i + 1, STATUS_COLORS[a.status] ?? DEFAULT_STATUS_COLOR);
        if (a.id === selectedId) sprite.scale.multiplyScalar(1.35);
        sprite.userData.annotationId = a.id;
        this.group.add(sprite);
        item = { key, sprite };
        this.items.set(a.id, item);
      }
      item.sprite.position.fromArray(a.position);
    });
    for (const id of [...this.items.keys()]) if (!seen.has(id)) this._drop(id);
  }

  _drop(id) {
    const item = this.items.get(id);
    item.sprite.removeFromParent();
    disposeSprite(item.sprite);
    this.items.delete(id);
  }

  /** The annotation id whose pin is under the pointer, if any. */
  pick(raycaster) {
    const hits = raycaster.intersectObjects(this.group.children, false);
    return hits.length ? hits[0].object.userData.annotationId : null;
  }
}
