// The section box in the scene: its outline and six drag handles (one per face), world space.
import * as THREE from 'three';

const FACES = [[0, -1], [0, 1], [1, -1], [1, 1], [2, -1], [2, 1]]; // [axis, side] (model space)

export class BoxHandles {
  /** @param {THREE.Object3D} root the model root (the box is in its space: model space) */
  constructor(root) {
    this.group = new THREE.Group();
    this.group.name = 'section-box';
    this.group.visible = false;
    root.add(this.group);
    this.outline = new THREE.LineSegments(new THREE.EdgesGeometry(new THREE.BoxGeometry(1, 1, 1)),
      new THREE.LineBasicMaterial({ color: 0x4dabf7, depthTest: false, transparent: true }));
    this.outline.renderOrder = 18;
    this.outline.raycast = () => {};
    this.group.add(this.outline);
    const mat = new THREE.MeshBasicMaterial({ color: 0x4dabf7, depthTest: false, transparent: true, opacity: 0.9 });
    this.handles = FACES.map(([axis, side]) => {
      const h = new THREE.Mesh(new THREE.SphereGeometry(1, 16, 12), mat);
      h.renderOrder = 19;
      h.userData.face = { axis, side };
      this.group.add(h);
      return h;
    });
  }

  /** Show the box {min, max} (model space), handles `size` model units across; null hides. */
  set(box, size = 0.2) {
    this.group.visible = Boolean(box);
    if (!box) return;
    const min = new THREE.Vector3(...box.min);
    const max = new THREE.Vector3(...box.max);
    const c = min.clone().add(max).multiplyScalar(0.5);
    this.outline.position.copy(c);
    // The box's own planes clip what lies outside it: the outline sits just inside them, and
    // each handle a third of its size inside its face.
    this.outline.scale.copy(max.clone().sub(min).max(new THREE.Vector3(1e-4, 1e-4, 1e-4)).multiplyScalar(0.998));
    for (const h of this.handles) {
      const { axis, side } = h.userData.face;
      const at = side < 0 ? min.getComponent(axis) + size / 3 : max.getComponent(axis) - size / 3;
      h.position.copy(c).setComponent(axis, at);
      h.scale.setScalar(size / 2);
    }
  }

  /** The face {axis, side} whose handle the ray hits, or null. */
  pick(raycaster) {
    if (!this.group.visible) return null;
    const hit = raycaster.intersectObjects(this.handles, false)[0];
    return hit ? hit.object.userData.face : null;
  }

  /** Handle positions in world space (test hooks), in FACES order. */
  worldHandles() {
    return this.handles.map((h) => h.getWorldPosition(new THREE.Vector3()).toArray());
  }
}
