import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextErrorTarget, selection, isSoftwareRenderer, tileTriangles } from '../src/viewer/tilebudget.js';

// A tile tree shaped like the writer's (T3): `sse` is the screen-space error the renderer would
// compute for the camera, `tris` the tile's extras.triangles, `out` = outside the frustum.
function tile(sse, tris, children = [], out = false) {
  return { sse, out, extras: { triangles: tris }, children, traversal: null };
}

// 3d-tiles-renderer's REPLACE traversal, reduced to what the budget reads.
function traverse(root, errorTarget, frame) {
  const visit = (t) => {
    t.traversal = { lastFrameVisited: frame, used: !t.out, inFrustum: !t.out, error: t.sse };
    if (t.out) return;
    if (t.sse > errorTarget) for (const c of t.children) visit(c);
  };
  visit(root);
}

/** Run frames until the error target settles; returns [target, frames]. */
function settle(root, base, budget) {
  let target = Infinity; // the client starts with the root alone
  for (let frame = 1; frame < 50; frame += 1) {
    traverse(root, target, frame);
    const next = nextErrorTarget(root, frame, target, base, budget);
    if (next === target) return [target, frame];
    target = next;
  }
  throw new Error('error target did not settle');
}

// The generated 20k building: a 7.8k-triangle root over 16 leaves of ~130k.
function building() {
  const leaves = Array.from({ length: 16 }, (_, i) => tile(0, 130000 + i));
  return tile(30, 7848, leaves);
}

test('without a budget the device error target stands', () => {
  const root = building();
  traverse(root, 8, 1);
  assert.equal(nextErrorTarget(root, 1, 8, 8, Infinity), 8);
  assert.equal(selection(root, 1).frontier.length, 16);
});

test('a budget below the leaves keeps the root, above them draws every leaf', () => {
  const root = building();
  const [low] = settle(root, 8, 300000);
  assert.ok(low > 30, low);
  traverse(root, low, 99);
  const sel = selection(root, 99);
  assert.deepEqual(sel.frontier, [root]);
  assert.equal(sel.triangles, 7848);
  const [high] = settle(building(), 8, 10e6);
  assert.equal(high, 8);
});

test('the target settles at the finest selection that fits, and holds there', () => {
  // root (sse 40) -> 4 mid tiles (sse 20, 30, 25, 12) -> 4 leaves each of 50k
  const mids = [20, 30, 25, 12].map((s) => tile(s, 20000, Array.from({ length: 4 }, () => tile(0, 50000))));
  const root = tile(40, 5000, mids);
  const [target, frames] = settle(root, 8, 450000);
  traverse(root, target, 100);
  const sel = selection(root, 100);
  assert.ok(sel.triangles <= 450000, sel.triangles);
  // two mids refined (2 x 200k) + two coarse (2 x 20k) = 440k fits; a third refined would not
  assert.equal(sel.triangles, 440000);
  // refined: the two with the largest error (the ones that need it most)
  assert.deepEqual(sel.refined.filter((t) => t !== root).map((t) => t.sse).sort(), [25, 30]);
  assert.ok(frames < 10, frames);
  // stable: the next frame keeps it
  assert.equal(nextErrorTarget(root, 100, target, 8, 450000), target);
});

test('the budget follows the camera back down to the device target', () => {
  const root = building();
  const [coarse] = settle(root, 8, 300000);
  assert.ok(coarse > 8);
  // The camera moves close to one leaf: 15 leaves leave the frustum, the root's error grows.
  root.sse = 200;
  root.children.forEach((c, i) => { c.out = i > 0; });
  let target = coarse;
  for (let frame = 200; frame < 210; frame += 1) {
    traverse(root, target, frame);
    target = nextErrorTarget(root, frame, target, 8, 300000, (c) => !c.out);
  }
  traverse(root, target, 300);
  assert.equal(selection(root, 300).triangles, 130000);
  // Without knowing which children are in view, refining is judged on all of them (too many).
  traverse(root, Infinity, 301);
  assert.equal(nextErrorTarget(root, 301, Infinity, 8, 300000), Infinity);
  assert.equal(nextErrorTarget(root, 301, Infinity, 8, 300000, (c) => !c.out), 198);
});

test('nothing is refined before the budget has judged it; an unprocessed tileset waits', () => {
  const root = building();
  assert.equal(nextErrorTarget(root, 1, Infinity, 8, 300000), Infinity);
  traverse(root, Infinity, 2);
  assert.deepEqual(selection(root, 2).frontier, [root]);
  assert.equal(nextErrorTarget(root, 2, Infinity, 8, 300000), Infinity);
  assert.equal(nextErrorTarget(root, 2, Infinity, 8, 10e6), 29.7);
});

test('tiles without counts leave the error target alone', () => {
  const root = building();
  delete root.children[3].extras;
  assert.equal(tileTriangles(root.children[3]), null);
  traverse(root, 8, 1);
  assert.equal(selection(root, 1).triangles, null);
  assert.equal(nextErrorTarget(root, 1, 8, 8, 1000), 8);
});

test('software renderers are recognised by their WebGL renderer string', () => {
  assert.ok(isSoftwareRenderer('ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)'));
  assert.ok(isSoftwareRenderer('llvmpipe (LLVM 15.0.6, 256 bits)'));
  assert.ok(!isSoftwareRenderer('ANGLE (NVIDIA, NVIDIA GeForce RTX 3070 Direct3D11 vs_5_0 ps_5_0, D3D11)'));
  assert.ok(!isSoftwareRenderer('Adreno (TM) 740'));
  assert.ok(!isSoftwareRenderer(undefined));
});
