// BVH-accelerated raycasting (three-mesh-bvh): hover, picking and XR controller rays test a
// bounding volume hierarchy per geometry instead of every triangle. BVHs are built off the
// critical path: geometries are queued as they arrive and built one at a time in idle slices, so
// no single frame pays for a whole level or tile. A mesh whose BVH is not built yet is still
// picked exactly (three.js' brute-force path), just slower.
import * as THREE from 'three';
import { acceleratedRaycast, computeBoundsTree, disposeBoundsTree } from 'three-mesh-bvh';

let installed = false;

/** Patch three.js once: Mesh.raycast goes through the BVH when its geometry has one. */
export function installBVH() {
  if (installed) return;
  installed = true;
  THREE.BufferGeometry.prototype.computeBoundsTree = computeBoundsTree;
  THREE.BufferGeometry.prototype.disposeBoundsTree = disposeBoundsTree;
  THREE.Mesh.prototype.raycast = acceleratedRaycast;
}

/** Budget of one idle slice: builds run until it is spent (one build is never split). */
const SLICE_MS = 8;

const idle = typeof requestIdleCallback === 'function'
  ? (fn) => requestIdleCallback(fn, { timeout: 200 })
  : (fn) => setTimeout(() => fn({ timeRemaining: () => SLICE_MS }), 16);

/** Queue of geometries waiting for a BVH; built a few per idle slice. */
export class BVHQueue {
  constructor() {
    this.pending = [];
    this.seen = new WeakSet();
    this.scheduled = false;
    this.built = 0;
    this.triangles = 0;
    this.maxBuildMs = 0;
  }

  /** Queue every mesh geometry under `root` (shared geometries once). */
  addObject(root) {
    root.traverse((o) => {
      if (!o.isMesh || o.isBatchedMesh || o.userData.isOverlay) return;
      const g = o.geometry;
      if (!g?.attributes?.position || this.seen.has(g)) return;
      this.seen.add(g);
      this.pending.push(g);
    });
    this._schedule();
  }

  _schedule() {
    if (this.scheduled || !this.pending.length) return;
    this.scheduled = true;
    idle((deadline) => this._run(deadline));
  }

  _run(deadline) {
    this.scheduled = false;
    const t0 = performance.now();
    while (this.pending.length) {
      const g = this.pending.shift();
      if (g.boundsTree || !g.attributes.position) continue;
      const t = performance.now();
      // indirect: keep the geometry's own index untouched (shared with the GPU buffers).
      g.computeBoundsTree({ indirect: true });
      const ms = performance.now() - t;
      this.maxBuildMs = Math.max(this.maxBuildMs, ms);
      this.built += 1;
      this.triangles += (g.index ? g.index.count : g.attributes.position.count) / 3;
      if (performance.now() - t0 > SLICE_MS || deadline.timeRemaining() <= 1) break;
    }
    this._schedule();
  }

  /** Numbers for the test hooks. */
  summary() {
    return { built: this.built, pending: this.pending.length, triangles: Math.round(this.triangles), max_build_ms: Math.round(this.maxBuildMs) };
  }
}
