import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stroke, simplify, segmentDistance, MIN_SPACING } from '../src/xr/stroke.js';

test('simplify keeps the corners of a polyline and drops collinear samples', () => {
  const pts = [];
  for (let i = 0; i <= 10; i += 1) pts.push([i * 0.1, 0, 0]);
  for (let i = 1; i <= 10; i += 1) pts.push([1, i * 0.1, 0]);
  const out = simplify(pts, 0.001);
  assert.deepEqual(out, [[0, 0, 0], [1, 0, 0], [1, 1, 0]]);
  for (const p of pts) assert.ok(Math.min(segmentDistance(p, out[0], out[1]), segmentDistance(p, out[1], out[2])) <= 0.001);
});

test('a stroke thins samples closer than the spacing and stays within the tolerance', () => {
  const s = new Stroke(500);
  assert.equal(s.add([0, 0, 0], 2), true);
  assert.equal(s.add([MIN_SPACING / 2, 0, 0], 2), false);
  const circle = [];
  for (let i = 1; i <= 200; i += 1) {
    const a = (i / 200) * Math.PI;
    const p = [Math.sin(a) * 0.5, 0, 0.5 - Math.cos(a) * 0.5];
    circle.push(p);
    s.add(p, 2);
  }
  const out = s.finish();
  assert.ok(out.length >= 8 && out.length < s.points.length, `${out.length} of ${s.points.length}`);
  const dist = (p) => Math.min(...out.slice(1).map((b, i) => segmentDistance(p, out[i], b)));
  for (const p of s.points) assert.ok(dist(p) <= 0.004 + 1e-9);
});

test('a stroke fits the protocol bound and needs two points', () => {
  const one = new Stroke(500);
  one.add([0, 0, 0]);
  assert.equal(one.finish(), null);
  const zig = new Stroke(20);
  for (let i = 0; i < 300; i += 1) zig.add([i * 0.02, (i % 2) * 0.05, 0], 1);
  const out = zig.finish();
  assert.ok(out.length <= 20 && out.length >= 2);
  assert.deepEqual(out[0], [0, 0, 0]);
});
