// BVH-accelerated raycasting (three-mesh-bvh): hover, picking and XR controller rays test a
// bounding volume hierarchy per geometry instead of every triangle. BVHs are built off the main
// thread: geometries are queued as they arrive and handed to a worker (bvhworker.js) a few per
// idle slice (the main thread only copies positions and index out and adopts the result); where
// the worker cannot start, they are built one at a time in idle slices on the main thread. A mesh
// whose BVH is not built yet is still picked exactly (three.js' brute-force path), just slower.
import * as THREE from 'three';
import { MeshBVH, acceleratedRaycast, computeBoundsTree, disposeBoundsTree } from 'three-mesh-bvh';

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

/** Builds in flight in the worker at most (bounds the copies waiting in its queue). */
const IN_FLIGHT = 8;

/** Copy of a typed array's own range (a view over a shared glTF buffer would clone it all). */
function own(array) {
  return array.slice();
}

/** The worker's input for a geometry: position (plain or interleaved) and index, copied. */
export function workerInput(g) {
  const p = g.attributes.position;
  const position = p.isInterleavedBufferAttribute
    ? { array: own(p.data.array), stride: p.data.stride, itemSize: p.itemSize, offset: p.offset, normalized: p.normalized }
    : { array: own(p.array), stride: 0, itemSize: p.itemSize, offset: 0, normalized: p.normalized };
  return { position, index: g.index ? own(g.index.array) : null };
}

let shared = null;
let nextJob = 1; // job ids are unique over every queue (they share the worker)

/** The shared BVH worker, or null where workers cannot start (it then builds in idle slices). */
function bvhWorker() {
  if (shared !== null) return shared || null;
  try {
    shared = new Worker(new URL('./bvhworker.js', import.meta.url));
  } catch {
    shared = false;
  }
  return shared || null;
}

/** Queue of geometries waiting for a BVH; built in a worker, else a few per idle slice. */
export class BVHQueue {
  constructor() {
    this.pending = [];
    this.seen = new WeakSet();
    this.scheduled = false;
    this.built = 0;
    this.triangles = 0;
    this.maxBuildMs = 0;
    this.maxMainMs = 0; // longest main-thread step per slice (copies, adoption, or builds)
    this.inWorker = 0;
    this.worker = bvhWorker();
    this.jobs = new Map(); // id -> geometry
    if (this.worker) {
      this._onMessage = (ev) => this._adopt(ev.data);
      this._onError = (ev) => {
        console.warn('BVH worker failed; building on the main thread:', ev?.message ?? ev);
        this._fallBack();
      };
      this.worker.addEventListener('message', this._onMessage);
      this.worker.addEventListener('error', this._onError);
    }
  }

  /** The worker failed (script did not load): build the rest on the main thread. */
  _fallBack() {
    if (!this.worker) return;
    this.worker.removeEventListener('message', this._onMessage);
    this.worker.removeEventListener('error', this._onError);
    this.worker = null;
    shared = false;
    for (const g of this.jobs.values()) this.pending.push(g);
    this.jobs.clear();
    this.inWorker = 0;
    this._schedule();
  }

  _adopt(data) {
    if (!data || !Number.isInteger(data.id)) return;
    const g = this.jobs.get(data.id);
    if (!g) return; // another queue's job (the worker is shared)
    this.jobs.delete(data.id);
    this.inWorker -= 1;
    if (data.error) {
      console.warn('BVH worker:', data.error);
      this.pending.push(g); // built on the main thread instead
      this.noWorker = true;
    } else if (!g.boundsTree && g.attributes.position) {
      const t = performance.now();
      g.boundsTree = MeshBVH.deserialize({ version: data.version, roots: data.roots, indirectBuffer: data.indirectBuffer, index: null }, g, { setIndex: false, indirect: true });
      this.maxMainMs = Math.max(this.maxMainMs, performance.now() - t);
      this.maxBuildMs = Math.max(this.maxBuildMs, data.ms ?? 0);
      this.built += 1;
      this.triangles += (g.index ? g.index.count : g.attributes.position.count) / 3;
    }
    this._schedule();
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
      if (this.worker && !this.noWorker && this.inWorker >= IN_FLIGHT) break;
      const g = this.pending.shift();
      if (g.boundsTree || !g.attributes.position) continue;
      if (this.worker && !this.noWorker) {
        const id = nextJob;
        nextJob += 1;
        this.jobs.set(id, g);
        this.inWorker += 1;
        const input = workerInput(g);
        const transfer = [input.position.array.buffer, ...(input.index ? [input.index.buffer] : [])];
        this.worker.postMessage({ id, ...input }, transfer);
        if (performance.now() - t0 > SLICE_MS || deadline.timeRemaining() <= 1) break;
        continue;
      }
      const t = performance.now();
      // indirect: keep the geometry's own index untouched (shared with the GPU buffers).
      g.computeBoundsTree({ indirect: true });
      const ms = performance.now() - t;
      this.maxBuildMs = Math.max(this.maxBuildMs, ms);
      this.built += 1;
      this.triangles += (g.index ? g.index.count : g.attributes.position.count) / 3;
      if (performance.now() - t0 > SLICE_MS || deadline.timeRemaining() <= 1) break;
    }
    this.maxMainMs = Math.max(this.maxMainMs, performance.now() - t0);
    this._schedule();
  }

  /** Numbers for the test hooks. */
  summary() {
    return {
      built: this.built, pending: this.pending.length + this.inWorker, triangles: Math.round(this.triangles),
      max_build_ms: Math.round(this.maxBuildMs), max_main_ms: Math.round(this.maxMainMs),
      worker: Boolean(this.worker && !this.noWorker),
    };
  }
}
