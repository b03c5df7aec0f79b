// Model space and world space for what the session exchanges: viewpoints, bounds, page pixels.
// Records on the wire (viewpoints, poses, annotations) are model space; the camera is world space.
import * as THREE from 'three';

/** A world-space viewpoint {position, target, up, fov} in model space. */
export function vpToModel(model, vp) {
  return {
    position: model.toModel(new THREE.Vector3(...vp.position)),
    target: model.toModel(new THREE.Vector3(...vp.target)),
    up: model.toModel(new THREE.Vector3(...vp.up), true),
    fov: vp.fov,
  };
}

/** A model-space viewpoint's camera position and target in world space (arrays). */
export function vpToWorld(model, vp) {
  return {
    position: model.fromModel(vp.position).toArray(),
    target: model.fromModel(vp.target).toArray(),
  };
}

/** The model's bounding box in model space, or null before it loaded. */
export function modelBounds(model) {
  if (!model.bounds) return null;
  return model.bounds.clone().applyMatrix4(model.root.matrixWorld.clone().invert());
}

/** A world point in page pixels (CSS). */
export function toScreen(viewer, v) {
  const p = v.clone().project(viewer.camera);
  const r = viewer.renderer.domElement.getBoundingClientRect();
  return [r.left + ((p.x + 1) / 2) * r.width, r.top + ((1 - p.y) / 2) * r.height];
}

/** Page pixels to normalised device coordinates of the view. */
export function ndcAt(viewer, [x, y]) {
  const r = viewer.renderer.domElement.getBoundingClientRect();
  return new THREE.Vector2(((x - r.left) / r.width) * 2 - 1, -((y - r.top) / r.height) * 2 + 1);
}
