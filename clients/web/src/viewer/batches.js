// Render batching for the displayed level: the part meshes that share a material (and a vertex
// layout) are drawn by one THREE.BatchedMesh, so a building costs about one draw call per
// material instead of one per part and material. The part meshes stay in the scene graph for
// picking and identity, moved to BATCHED_LAYER (the raycaster enables it, cameras never render
// it). Before each frame, sync() copies every part mesh's world matrix and effective visibility
// into its batch instance. A tinted part (colour override) is un-batched: its instance is hidden
// and the part mesh is drawn on its own with its tinted material.
import * as THREE from 'three';

/** Layer the batched part meshes live on: picked, never drawn by the camera. */
export const BATCHED_LAYER = 6;

const _m = new THREE.Matrix4();
const _inv = new THREE.Matrix4();

/** Vertex layout key: BatchedMesh needs equal attribute sets, item sizes and normalisation. */
export function layoutKey(geometry) {
  const attrs = Object.keys(geometry.attributes).sort().map((name) => {
    const a = geometry.attributes[name];
    return `${name}:${a.itemSize}:${a.normalized ? 1 : 0}:${a.array.constructor.name}`;
  });
  return `${geometry.index ? 'i' : 'n'}|${attrs.join(',')}`;
}

function batchable(mesh) {
  return mesh.isMesh && !mesh.isBatchedMesh && !mesh.isInstancedMesh && !mesh.isSkinnedMesh
    && !Array.isArray(mesh.material) && mesh.userData.partName && !mesh.userData.isOverlay
    && Object.keys(mesh.geometry.morphAttributes ?? {}).length === 0
    && mesh.geometry.attributes.position;
}

function isUnderOrSelf(o, root) {
  for (let p = o; p; p = p.parent) if (p === root) return true;
  return false;
}

function visibleUnder(obj, root) {
  for (let o = obj; o && o !== root; o = o.parent) if (!o.visible) return false;
  return true;
}

export class LevelBatches {
  /** Group the part meshes under `scene` (a loaded level) into batches; call after indexing. */
  constructor(scene) {
    this.scene = scene;
    this.group = new THREE.Group();
    this.group.name = 'batches';
    this.entries = [];
    this.meshes = [];
    const groups = new Map();
    scene.updateMatrixWorld(true);
    scene.traverse((o) => {
      if (!batchable(o)) return;
      const key = `${o.material.uuid}|${layoutKey(o.geometry)}`;
      let list = groups.get(key);
      if (!list) groups.set(key, (list = []));
      list.push(o);
    });
    for (const list of groups.values()) if (list.length > 1) this._batch(list);
    scene.add(this.group);
    this.sync();
  }

  _batch(list) {
    const geoms = new Map();
    for (const mesh of list) if (!geoms.has(mesh.geometry)) geoms.set(mesh.geometry, null);
    let vertices = 0;
    let indices = 0;
    for (const g of geoms.keys()) {
      vertices += g.attributes.position.count;
      indices += g.index ? g.index.count : 0;
    }
    const batch = new THREE.BatchedMesh(list.length, vertices, Math.max(indices, 1), list[0].material);
    batch.name = `batch:${list[0].material.name || list[0].material.uuid}`;
    // Instances move (gizmo, VR grab, remote node.set): the batch's own bounds would go stale.
    batch.frustumCulled = false;
    batch.raycast = () => {};
    batch.userData.isBatch = true;
    for (const g of geoms.keys()) geoms.set(g, batch.addGeometry(g));
    for (const mesh of list) {
      const id = batch.addInstance(geoms.get(mesh.geometry));
      this.entries.push({ mesh, batch, id, matrix: new THREE.Matrix4().set(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), visible: true, unbatched: false });
      mesh.layers.set(BATCHED_LAYER);
    }
    this.meshes.push(batch);
    this.group.add(batch);
  }

  /** Copy world matrices, visibility and un-batching of the part meshes into the batches. */
  sync() {
    _inv.copy(this.scene.matrixWorld).invert();
    for (const e of this.entries) {
      const mesh = e.mesh;
      const unbatch = Boolean(mesh.userData.tintColor);
      if (unbatch !== e.unbatched) {
        if (unbatch) mesh.layers.enable(0);
        else mesh.layers.disable(0);
        e.unbatched = unbatch;
      }
      const visible = !unbatch && visibleUnder(mesh, this.scene);
      if (visible !== e.visible) {
        e.batch.setVisibleAt(e.id, visible);
        e.visible = visible;
      }
      _m.multiplyMatrices(_inv, mesh.matrixWorld);
      if (!_m.equals(e.matrix)) {
        e.matrix.copy(_m);
        e.batch.setMatrixAt(e.id, _m);
      }
    }
  }

  /** Where each batch instance of a part object's meshes draws (world matrices), for tests. */
  describe(obj) {
    const out = [];
    for (const e of this.entries) {
      if (!isUnderOrSelf(e.mesh, obj)) continue;
      const instance = e.batch.getMatrixAt(e.id, new THREE.Matrix4()).premultiply(e.batch.matrixWorld);
      out.push({
        instance: Array.from(instance.elements), mesh: Array.from(e.mesh.matrixWorld.elements),
        visible: e.batch.getVisibleAt(e.id), unbatched: e.unbatched,
      });
    }
    return out;
  }

  /** Numbers for the test hooks. */
  summary() {
    return {
      batches: this.meshes.length,
      batched: this.entries.filter((e) => !e.unbatched).length,
      unbatched: this.entries.filter((e) => e.unbatched).length,
    };
  }

  /** Drop the batches; the part meshes go back to being drawn one by one (layer 0). */
  dispose() {
    for (const e of this.entries) e.mesh.layers.set(0);
    for (const b of this.meshes) b.dispose();
    this.group.removeFromParent();
    this.entries = [];
    this.meshes = [];
  }
}
