// BVH builds off the main thread (classic worker; bvh.js starts it). Import maps do not reach
// workers, so three.js and three-mesh-bvh load as their CommonJS/UMD builds: three.cjs fills
// `exports`, which becomes the global THREE the three-mesh-bvh UMD build reads.
/* global importScripts */
self.exports = {};
importScripts('/vendor/three/build/three.cjs');
self.THREE = self.exports;
importScripts('/vendor/three-mesh-bvh/build/index.umd.cjs');

// (No top-level const here: classic scripts share one global scope with three.cjs's classes.)
self.onmessage = ({ data }) => {
  const { BufferGeometry, BufferAttribute, InterleavedBuffer, InterleavedBufferAttribute } = self.THREE;
  const { MeshBVH } = self.MeshBVHLib;
  const { id, position: p, index } = data;
  try {
    const g = new BufferGeometry();
    const attr = p.stride
      ? new InterleavedBufferAttribute(new InterleavedBuffer(p.array, p.stride), p.itemSize, p.offset, p.normalized)
      : new BufferAttribute(p.array, p.itemSize, p.normalized);
    g.setAttribute('position', attr);
    if (index) g.setIndex(new BufferAttribute(index, 1));
    const t0 = performance.now();
    // indirect: the geometry's own index stays untouched (shared with the GPU buffers).
    const bvh = new MeshBVH(g, { indirect: true });
    const ms = performance.now() - t0;
    const s = MeshBVH.serialize(bvh, { cloneBuffers: false });
    const transfer = [...s.roots, s.indirectBuffer].filter(Boolean).map((b) => b.buffer ?? b);
    self.postMessage({ id, roots: s.roots, indirectBuffer: s.indirectBuffer, version: s.version, ms }, transfer);
  } catch (err) {
    self.postMessage({ id, error: String(err?.message ?? err) });
  }
};
self.postMessage({ ready: true });
