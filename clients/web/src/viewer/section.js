// Section plane: one global renderer clipping plane from the room's enabled section.
import * as THREE from 'three';

export class SectionView {
  constructor(viewer, root) {
    this.viewer = viewer;
    this.root = root;
    this.plane = new THREE.Plane();
    this.current = null;
    this.helper = null;
  }

  /** Apply the first enabled section of the room state (or none). */
  apply(sections) {
    const s = Object.values(sections ?? {}).find((x) => x.enabled) ?? null;
    this.current = s;
    if (!s) {
      this.viewer.renderer.clippingPlanes = [];
      return;
    }
    // Keep what lies on the side the normal points away from: n . x <= offset.
    const n = new THREE.Vector3(...s.normal).normalize();
    this.plane.set(n.clone().negate(), s.offset);
    // Sections are model space; clipping planes are world space.
    this.root.updateMatrixWorld(true);
    this.plane.applyMatrix4(this.root.matrixWorld);
    this.viewer.renderer.clippingPlanes = [this.plane];
  }
}
