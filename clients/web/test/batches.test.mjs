import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as THREE from 'three';
import { LevelBatches, BATCHED_LAYER, layoutKey } from '../src/viewer/batches.js';

/** A level like the ingest writes: a root (dequantisation-like scale) with part nodes. */
function level() {
  const scene = new THREE.Group();
  const root = new THREE.Group();
  root.scale.set(2, 2, 2);
  scene.add(root);
  const wall = new THREE.MeshStandardMaterial({ name: 'wall' });
  const glass = new THREE.MeshStandardMaterial({ name: 'glass' });
  const box = new THREE.BoxGeometry(1, 1, 1);
  const parts = [];
  for (let i = 0; i < 5; i += 1) {
    const part = new THREE.Mesh(i === 4 ? new THREE.SphereGeometry(0.5) : box, i < 3 ? wall : glass);
    part.position.set(i, 0, 0);
    part.userData.partName = `p${i}`;
    root.add(part);
    parts.push(part);
  }
  // A part with two primitives (a group of meshes) and one material used once.
  const door = new THREE.Group();
  door.userData.partName = 'door';
  const leaf = new THREE.Mesh(box, wall);
  const handle = new THREE.Mesh(box, new THREE.MeshStandardMaterial({ name: 'brass' }));
  for (const m of [leaf, handle]) {
    m.userData.partName = 'door';
    door.add(m);
  }
  root.add(door);
  return { scene, root, parts, door, leaf, handle };
}

test('groups part meshes by material: one batch per shared material', () => {
  const { scene, parts, leaf, handle } = level();
  const b = new LevelBatches(scene);
  assert.equal(b.meshes.length, 2); // wall (4 meshes), glass (2); brass is used once
  assert.deepEqual(b.summary(), { batches: 2, batched: 6, unbatched: 0 });
  for (const m of [...parts, leaf]) assert.ok(m.layers.isEnabled(BATCHED_LAYER) && !m.layers.isEnabled(0));
  assert.ok(handle.layers.isEnabled(0), 'an unshared material is drawn as before');
  const names = b.meshes.map((m) => m.material.name).sort();
  assert.deepEqual(names, ['glass', 'wall']);
});

test('instances follow part moves and visibility; tinted parts are un-batched', () => {
  const { scene, root, parts, door } = level();
  scene.updateMatrixWorld(true);
  const b = new LevelBatches(scene);
  const [state0] = b.describe(parts[1]);
  assert.deepEqual(state0.instance, state0.mesh);
  assert.equal(state0.instance[12], 2); // x = 1, scaled by the root

  parts[1].position.set(0, 3, 0);
  root.updateMatrixWorld(true);
  assert.notDeepEqual(b.describe(parts[1])[0].instance, b.describe(parts[1])[0].mesh);
  b.sync();
  const [moved] = b.describe(parts[1]);
  assert.deepEqual(moved.instance, moved.mesh);
  assert.equal(moved.instance[13], 6);

  door.visible = false;
  b.sync();
  assert.equal(b.describe(door)[0].visible, false, 'a hidden part hides its instances');
  door.visible = true;
  b.sync();
  assert.equal(b.describe(door)[0].visible, true);

  parts[0].userData.tintColor = '#ff0000';
  b.sync();
  assert.equal(b.describe(parts[0])[0].unbatched, true);
  assert.equal(b.describe(parts[0])[0].visible, false);
  assert.ok(parts[0].layers.isEnabled(0), 'a tinted part is drawn on its own');
  parts[0].userData.tintColor = null;
  b.sync();
  assert.equal(b.describe(parts[0])[0].visible, true);
  assert.ok(!parts[0].layers.isEnabled(0));
});

test('dispose puts the part meshes back on the default layer', () => {
  const { scene, parts } = level();
  const b = new LevelBatches(scene);
  b.dispose();
  assert.ok(parts.every((m) => m.layers.isEnabled(0)));
  assert.equal(scene.getObjectByName('batches'), undefined);
});

test('layout key separates vertex layouts BatchedMesh cannot mix', () => {
  const a = new THREE.BoxGeometry();
  const b = a.clone();
  b.deleteAttribute('uv');
  const c = a.toNonIndexed();
  assert.equal(layoutKey(a), layoutKey(a.clone()));
  assert.notEqual(layoutKey(a), layoutKey(b));
  assert.notEqual(layoutKey(a), layoutKey(c));
});
