// Section plane and box: global renderer clipping planes from the first enabled section (the
// room's, or one's own) and one's own section box (six planes; what is inside is kept).
import * as THREE from 'three';

export class SectionView {
  constructor(viewer, root) {
    this.viewer = viewer;
    this.root = root;
    this.plane = new THREE.Plane();
    this.current = null;
    this.helper = null;
  }

  /** Apply the first enabled section of the room state (or none) and a section box
   * {min, max} (model space, or null). */
  apply(sections, box = null) {
    const s = Object.values(sections ?? {}).find((x) => x.enabled) ?? null;
    this.current = s;
    this.box = box;
    const planes = [];
    // Sections are model space; clipping planes are world space.
    this.root.updateMatrixWorld(true);
    if (s) {
      // Keep what lies on the side the normal points away from: n . x <= offset.
      const n = new THREE.Vector3(...s.normal).normalize();
      this.plane.set(n.clone().negate(), s.offset);
      this.plane.applyMatrix4(this.root.matrixWorld);
      planes.push(this.plane);
    }
    if (box) {
      this.boxPlanes ??= Array.from({ length: 6 }, () => new THREE.Plane());
      for (let axis = 0; axis < 3; axis += 1) {
        const n = new THREE.Vector3().setComponent(axis, 1);
        // Keep x >= min (normal +axis) and x <= max (normal -axis).
        this.boxPlanes[axis * 2].set(n.clone(), -box.min[axis]).applyMatrix4(this.root.matrixWorld);
        this.boxPlanes[axis * 2 + 1].set(n.clone().negate(), box.max[axis]).applyMatrix4(this.root.matrixWorld);
      }
      planes.push(...this.boxPlanes);
    }
    this.viewer.renderer.clippingPlanes = planes;
    // Draw again only when the clipping changed (the room's state is applied on every change).
    const key = planes.map((p) => `${p.normal.toArray()},${p.constant}`).join(';');
    if (key !== this.planesKey) {
      this.planesKey = key;
      this.viewer.invalidate();
    }
  }
}
