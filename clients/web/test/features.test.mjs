import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  elementIndices, elementAtHit, stateTextureSize, packElementState, drawnInTiles, elementVisible,
  trianglesOf, FLAG_HIDDEN, FLAG_TINT, FLAG_MOVED,
} from '../src/viewer/features.js';

test('tile-local feature ids map to global element indices; unknown ids to -1', () => {
  const table = new Uint32Array([40, 7, 123456]);
  assert.deepEqual(Array.from(elementIndices(new Float32Array([0, 0, 2, 1, 5]), table)), [40, 40, 123456, 7, -1]);
  assert.deepEqual(Array.from(elementIndices(new Uint16Array([1, 2]), table)), [7, 123456]);
});

test('a hit resolves its element from the hit vertex, or from the instance', () => {
  const vertex = new Float32Array([5, 5, 5, 9, 9, 9]);
  assert.equal(elementAtHit(vertex, null, { a: 3, b: 4, c: 5 }, undefined), 9);
  assert.equal(elementAtHit(null, new Float32Array([11, 12]), { a: 0 }, 1), 12);
  assert.equal(elementAtHit(null, null, { a: 0 }, undefined), -1);
  assert.equal(elementAtHit(vertex, null, { a: 99 }, undefined), -1);
});

test('the state texture is at most 2048 wide and holds every element', () => {
  assert.deepEqual(stateTextureSize(1), { width: 1, height: 1 });
  assert.deepEqual(stateTextureSize(83), { width: 128, height: 1 });
  const big = stateTextureSize(200000);
  assert.equal(big.width, 2048);
  assert.ok(big.width * big.height >= 200000);
});

test('node state packs into flags and colours per element', () => {
  const keys = new Map([['A', 0], ['B', 1], ['C', 2], ['D', 3]]);
  const indexOf = (k) => keys.get(k) ?? -1;
  const data = new Uint8Array(4 * 4);
  const nodes = {
    A: { visible: false, color: null, transform: null },
    B: { visible: true, color: '#ff8000' },
    C: { color: 'red' }, // not #rrggbb: ignored
    nope: { visible: false },
  };
  const counts = packElementState(data, 4, nodes, indexOf, null, new Set([3]));
  assert.deepEqual(counts, { hidden: 1, tinted: 1, moved: 1 });
  assert.equal(data[3], FLAG_HIDDEN);
  assert.deepEqual(Array.from(data.subarray(4, 8)), [255, 128, 0, FLAG_TINT]);
  assert.equal(data[11], 0);
  assert.equal(data[15], FLAG_MOVED);
  assert.ok(!drawnInTiles(data, 0) && !elementVisible(data, 0));
  assert.ok(drawnInTiles(data, 1) && elementVisible(data, 1));
  assert.ok(!drawnInTiles(data, 3) && elementVisible(data, 3)); // moved: drawn by its own mesh
  assert.ok(!drawnInTiles(data, 4));
});

test('isolation hides everything else; repacking clears earlier state', () => {
  const indexOf = (k) => ({ A: 0, B: 1, C: 2 })[k] ?? -1;
  const data = new Uint8Array(12);
  packElementState(data, 3, { A: { color: '#00ff00' } }, indexOf, new Set([1]));
  assert.deepEqual([data[3], data[7], data[11]], [FLAG_HIDDEN | FLAG_TINT, 0, FLAG_HIDDEN]);
  const counts = packElementState(data, 3, {}, indexOf, null);
  assert.deepEqual(counts, { hidden: 0, tinted: 0, moved: 0 });
  assert.deepEqual(Array.from(data), new Array(12).fill(0));
});

test('the triangles of one element in a batch', () => {
  const ve = new Float32Array([0, 0, 0, 1, 1, 1, 0, 0]);
  assert.deepEqual(trianglesOf(ve, new Uint16Array([0, 1, 2, 3, 4, 5, 6, 7, 0]), 1), [3]);
  assert.deepEqual(trianglesOf(ve, new Uint16Array([0, 1, 2, 3, 4, 5, 6, 7, 0]), 0), [0, 6]);
  assert.deepEqual(trianglesOf(ve.subarray(0, 6), null, 1), [3]);
});
