import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PoseBuffer, PoseInterpolator, slerp, lerpPose } from '../src/state/interp.js';

const pose = (x) => ({ head: { p: [x, 1.6, 0], q: [0, 0, 0, 1] }, left: null, right: null, laser: null });

test('buffer interpolates between samples and clamps at the ends', () => {
  const b = new PoseBuffer();
  b.push(1, pose(0));
  b.push(2, pose(10));
  assert.equal(b.sample(0.5).head.p[0], 0);
  assert.ok(Math.abs(b.sample(1.25).head.p[0] - 2.5) < 1e-9);
  assert.equal(b.sample(3).head.p[0], 10);
  b.push(1.5, pose(99)); // out of order: ignored
  assert.equal(b.samples.length, 2);
});

test('slerp is normalised and takes the short way', () => {
  const q = slerp([0, 0, 0, 1], [0, 0, 0, -1], 0.5);
  assert.ok(Math.abs(Math.hypot(...q) - 1) < 1e-9);
  const h = slerp([0, 0, 0, 1], [0, Math.SQRT1_2, 0, Math.SQRT1_2], 0.5);
  assert.ok(Math.abs(h[1] - Math.sin(Math.PI / 8)) < 1e-6);
});

test('laser hit appears/disappears at the midpoint', () => {
  const a = { ...pose(0), laser: { origin: [0, 0, 0], dir: [0, 0, -1], hit: null, node_id: null } };
  const b = { ...pose(1), laser: { origin: [0, 0, 0], dir: [0, 0, -1], hit: [0, 0, -2], node_id: 'n' } };
  assert.equal(lerpPose(a, b, 0.25).laser.hit, null);
  assert.deepEqual(lerpPose(a, b, 0.75).laser.hit, [0, 0, -2]);
});

test('interpolator renders behind the newest sample by the delay', () => {
  const it = new PoseInterpolator({ tickHz: 10, delayTicks: 1 });
  it.receive({ t: 100.0, poses: { s1: pose(0) } }, 5.0);
  it.receive({ t: 100.1, poses: { s1: pose(1) } }, 5.1);
  const got = it.sampleAll(5.15).get('s1');
  assert.ok(Math.abs(got.head.p[0] - 0.5) < 1e-6, String(got.head.p[0]));
  it.remove('s1');
  assert.equal(it.sampleAll(6).size, 0);
});
