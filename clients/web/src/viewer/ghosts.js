// Ghosted boxes: translucent boxes with outlines (removed elements of an older version, drawn
// where they were). Not pickable; world space.
import * as THREE from 'three';

const UNIT = new THREE.BoxGeometry(1, 1, 1);
const EDGES = new THREE.EdgesGeometry(UNIT);

export class GhostBoxes {
  constructor(scene) {
    this.group = new THREE.Group();
    this.group.name = 'ghosts';
    scene.add(this.group);
    this.materials = new Map();
    this.items = [];
  }

  _materials(color) {
    if (!this.materials.has(color)) {
      this.materials.set(color, {
        fill: new THREE.MeshBasicMaterial({ color, transparent: true, opacity: 0.45, depthWrite: false, side: THREE.DoubleSide }),
        line: new THREE.LineBasicMaterial({ color }),
      });
    }
    return this.materials.get(color);
  }

  /** Replace the boxes: [{box: THREE.Box3 (world), color: '#rrggbb', id}]. */
  set(items) {
    this.clear();
    for (const { box, color, id } of items) {
      if (!box || box.isEmpty()) continue;
      const { fill, line } = this._materials(color);
      const size = box.getSize(new THREE.Vector3()).max(new THREE.Vector3(0.02, 0.02, 0.02));
      const mesh = new THREE.Mesh(UNIT, fill);
      mesh.add(new THREE.LineSegments(EDGES, line));
      mesh.position.copy(box.getCenter(new THREE.Vector3()));
      mesh.scale.copy(size);
      mesh.raycast = () => {};
      mesh.children[0].raycast = () => {};
      mesh.renderOrder = 2;
      mesh.userData.ghostId = id;
      this.group.add(mesh);
      this.items.push({ id, box: box.clone() });
    }
  }

  clear() {
    this.group.clear();
    this.items = [];
  }

  describe() {
    return this.items.map((i) => i.id);
  }
}
