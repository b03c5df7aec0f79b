import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as THREE from 'three';
import { planarFace, angleAt, measurementValue, footOnFace, hitTriangle } from '../src/tools/measure.js';

test('area of a picked face: the coplanar triangles connected to the hit, in world units', () => {
  // A 4 x 2 plane in 16 triangles, scaled by 2 in x by its object: 16 m² in world space.
  const plane = new THREE.Mesh(new THREE.PlaneGeometry(4, 2, 4, 2));
  plane.scale.set(2, 1, 1);
  plane.updateMatrixWorld(true);
  const idx = plane.geometry.index.array;
  const face = { a: idx[0], b: idx[1], c: idx[2] };
  const got = planarFace({ object: plane, face, point: new THREE.Vector3() });
  assert.equal(got.triangles, 16);
  assert.ok(Math.abs(got.area - 16) < 1e-9, got.area);
  assert.ok(Math.abs(got.normal.z - 1) < 1e-9);
  // A box's face stops at its edges (the neighbouring faces are in other planes): 2 x 3.
  const box = new THREE.Mesh(new THREE.BoxGeometry(2, 3, 4));
  box.updateMatrixWorld(true);
  const bi = box.geometry.index.array;
  const faces = [];
  for (let t = 0; t < bi.length; t += 6) {
    faces.push(planarFace({ object: box, face: { a: bi[t], b: bi[t + 1], c: bi[t + 2] }, point: new THREE.Vector3() }).area);
  }
  assert.deepEqual(faces.map((a) => Math.round(a * 1e6) / 1e6), [12, 12, 8, 8, 6, 6]);
});

test('angles, labels, and the foot of a perpendicular', () => {
  assert.ok(Math.abs(angleAt([1, 0, 0], [0, 0, 0], [0, 2, 0]) - 90) < 1e-9);
  assert.equal(measurementValue({ kind: 'angle', a: [1, 0, 0], b: [0, 0, 0], c: [1, 1, 0], unit: 'm' }).text, '45.0°');
  assert.equal(measurementValue({ kind: 'area', a: [0, 0, 0], b: [0, 0, 0.001], value: 12.5, unit: 'm' }).text, '12.500 m²');
  assert.equal(measurementValue({ a: [0, 0, 0], b: [3, 4, 0], unit: 'm' }).text, '5.000 m');
  const floor = new THREE.Mesh(new THREE.PlaneGeometry(10, 10));
  floor.updateMatrixWorld(true);
  const i = floor.geometry.index.array;
  const foot = footOnFace({ object: floor, face: { a: i[0], b: i[1], c: i[2] } }, new THREE.Vector3(3, 2, 7));
  assert.deepEqual(foot.toArray(), [3, 2, 0]);
});

test('picked triangles are in world space on instanced and batched quantised meshes', () => {
  // A 1 m cube stored on a 16-bit grid (KHR_mesh_quantization): the node dequantises with a
  // scale, each instance adds a translation (the compact instance form of docs/tiles.md).
  const box = new THREE.BoxGeometry(1, 1, 1).toNonIndexed();
  const p = box.attributes.position;
  const q = new Uint16Array(p.count * 3);
  for (let i = 0; i < p.count * 3; i += 1) q[i] = Math.round((p.array[i] + 0.5) * 65535);
  const geo = new THREE.BufferGeometry();
  geo.setAttribute('position', new THREE.BufferAttribute(q, 3));
  const inst = new THREE.InstancedMesh(geo, new THREE.MeshBasicMaterial(), 2);
  inst.scale.setScalar(1 / 65535);
  const m = new THREE.Matrix4();
  inst.setMatrixAt(0, m.makeTranslation(0, 0, 0));
  inst.setMatrixAt(1, m.makeTranslation(10 * 65535, 0, 0)); // the copy at x = 10..11 m
  const batched = new THREE.BatchedMesh(1, p.count, 0, new THREE.MeshBasicMaterial());
  batched.setMatrixAt(batched.addInstance(batched.addGeometry(geo)), m.makeTranslation(0, 20 * 65535, 0));
  batched.scale.setScalar(1 / 65535);
  for (const [mesh, origin, lo] of [[inst, [10.5, 0.5, 5], [10, 0, 1]], [batched, [0.5, 20.5, 5], [0, 20, 1]]]) {
    mesh.updateMatrixWorld(true);
    const rc = new THREE.Raycaster(new THREE.Vector3(...origin), new THREE.Vector3(0, 0, -1));
    const hit = rc.intersectObject(mesh)[0];
    assert.ok(hit, 'the ray meets the copy');
    const tri = hitTriangle(hit);
    for (const v of tri) {
      assert.ok(v.x >= lo[0] - 1e-4 && v.x <= lo[0] + 1 + 1e-4 && v.y >= lo[1] - 1e-4 && v.y <= lo[1] + 1 + 1e-4, v.toArray());
      assert.ok(Math.abs(v.z - lo[2]) < 1e-4, v.toArray()); // the top face, z = 1 m
    }
    const foot = footOnFace(hit, new THREE.Vector3(origin[0], origin[1], 7));
    assert.ok(Math.abs(foot.z - 1) < 1e-4, foot.toArray());
    assert.ok(Math.abs(planarFace(hit).area - 1) < 1e-6);
  }
});
