import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as THREE from 'three';
import { OwnView, MAX_VIEW_NODES } from '../src/tools/viewstate.js';
import { spawnAzimuth, followPose, lockReasons, FOLLOW_BACK } from '../src/tools/people.js';
import { formatNumber, unitOf, fmt } from '../src/ui/hud.js';

test('own view hides over the room state without touching it', () => {
  const v = new OwnView();
  const room = { a: { visible: true, color: '#ff0000' }, b: { visible: false } };
  assert.equal(v.nodes(room), room);
  v.hide('a');
  v.hide('c');
  const merged = v.nodes(room);
  assert.deepEqual(merged.a, { visible: false, color: '#ff0000' });
  assert.deepEqual(merged.c, { visible: false });
  assert.deepEqual(room.a, { visible: true, color: '#ff0000' });
  assert.deepEqual(v.sections({ main: { id: 'main' } }), { main: { id: 'main' } });
  v.setSection({ normal: [0, 1, 0], offset: 2 });
  assert.deepEqual(v.sections({ main: { id: 'main' } }), { own: { id: 'own', normal: [0, 1, 0], offset: 2, enabled: true } });
  const wire = v.toWire(null);
  assert.deepEqual(wire, { hidden: ['a', 'c'], isolated: null, section: { normal: [0, 1, 0], offset: 2, enabled: true }, camera: null, colors: {} });
  const w = new OwnView();
  w.adopt({ ...wire, hidden: ['a', 7], isolated: ['x'], section: { normal: [0, 1], offset: 1 } });
  assert.deepEqual(w.describe(), { hidden: ['a'], isolated: ['x'], section: null, colors: 0 });
  w.adopt({ colors: { a: '#ff0000', b: 'red' } });
  assert.deepEqual([...w.colors], [['a', '#ff0000']]);
  v.clear();
  assert.ok(v.empty);
  for (let i = 0; i < MAX_VIEW_NODES + 5; i += 1) v.hide(`n${i}`);
  assert.equal(v.toWire().hidden.length, MAX_VIEW_NODES);
});

test('people spawn at distinct framings and follow from behind', () => {
  const angles = [0, 1, 2, 3, 4, 5].map(spawnAzimuth);
  assert.equal(angles[0], 0);
  for (let i = 0; i < angles.length; i += 1) {
    for (let j = i + 1; j < angles.length; j += 1) {
      const d = Math.abs(Math.atan2(Math.sin(angles[i] - angles[j]), Math.cos(angles[i] - angles[j])));
      assert.ok(d > 0.3, `spawn ${i} and ${j} are ${d} rad apart`);
    }
  }
  const head = new THREE.Vector3(1, 2, 3);
  const q = new THREE.Quaternion(); // looking down -Z
  const { position, target } = followPose(head, q, 2);
  assert.ok(Math.abs(position.z - (3 + FOLLOW_BACK * 2)) < 1e-9);
  assert.ok(target.z < head.z);
});

test('a locked tool says why; own-view tools are open to every role', () => {
  const viewer = lockReasons('viewer');
  assert.match(viewer.annotate, /reviewer role \(you are viewer\)/);
  assert.equal(viewer.hide, null);
  assert.equal(viewer.section, null);
  const rev = lockReasons('reviewer');
  assert.match(rev.move, /editor/);
  assert.match(rev.share, /Present/);
  assert.equal(lockReasons('reviewer', { presenting: true }).share, null);
  assert.equal(lockReasons('editor').share, null);
  assert.match(lockReasons('owner', { online: false }).annotate, /not connected/);
});

test('property numbers are rounded and carry the unit their name implies', () => {
  assert.equal(formatNumber(50.23129999999995, unitOf('Width')), '50.231 m');
  assert.equal(formatNumber(12.5, unitOf('NetSideArea')), '12.5 m²');
  assert.equal(formatNumber(0.123456789, unitOf('GrossVolume')), '0.1235 m³');
  assert.equal(formatNumber(3, unitOf('Reference')), '3');
  assert.equal(formatNumber(1234.56, ''), '1235');
});

test('property numbers take the unit the IFC file gives (its unit assignment)', () => {
  const units = { Width: 'mm', Area: 'm²', Slope: '°' };
  assert.equal(fmt(50.23129999999995, 'Width', units), '50.23 mm');
  assert.equal(fmt(12.345678, 'Area', units), '12.346 m²');
  assert.equal(fmt(2.5, 'Slope', units), '2.5 °');
  // a set with units but none for this property: a plain number (no guessing from the name)
  assert.equal(fmt(4, 'Length', units), '4');
  // no units recorded (older conversions, other formats): the name implies the unit
  assert.equal(fmt(50.23129999999995, 'Width'), '50.231 m');
});

test('a view link round-trips and refuses junk', async () => {
  globalThis.location ??= { origin: 'http://x' };
  const { encodeView, decodeView } = await import('../src/tools/viewlink.js');
  const view = { hidden: ['w1', 'ä'], isolated: null, section: { normal: [0, 0, 1], offset: 2.5, enabled: true },
    camera: { position: [1, 2, 3], target: [0, 0, 0], up: [0, 0, 1], fov: 50 } };
  const back = decodeView(encodeView(view));
  assert.deepEqual(back, { name: null, ...view });
  assert.equal(decodeView('not-base64!!'), null);
  assert.equal(decodeView(encodeView({ ...view, v: 2 })), null);
  const odd = decodeView(encodeView({ hidden: [1, '', 'ok'], section: { normal: [0, 1], offset: 1 }, camera: { position: [0, 0] } }));
  assert.deepEqual(odd, { name: null, hidden: ['ok'], isolated: null, section: null, camera: null });
});

test('a view link carries the section box and colours; a bad box is dropped', async () => {
  globalThis.location ??= { origin: 'http://x' };
  const { encodeView, decodeView } = await import('../src/tools/viewlink.js');
  const own = new OwnView();
  own.setBox({ min: [0, 1, 2], max: [3, 4, 5] });
  own.colors.set('w1', '#ff0000');
  const back = decodeView(encodeView(own.toWire(null)));
  assert.deepEqual(back.box, { min: [0, 1, 2], max: [3, 4, 5] });
  assert.deepEqual(back.colors, { w1: '#ff0000' });
  const other = new OwnView();
  other.adopt(back);
  assert.deepEqual(other.box, own.box);
  assert.equal(other.colors.get('w1'), '#ff0000');
  // A shared view without a box removes ours (it replaces our own view).
  other.adopt({ hidden: [] });
  assert.equal(other.box, null);
  for (const box of [{ min: [3, 0, 0], max: [0, 1, 1] }, { min: [0, 0], max: [1, 1, 1] }, { min: [0, 0, NaN], max: [1, 1, 1] }]) {
    assert.equal(decodeView(encodeView({ box })).box, undefined);
  }
});

test('snapping prefers corners, then edge midpoints, then edges, and skips cut corners', async () => {
  const { snapHit } = await import('../src/tools/measure.js');
  const geo = new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(0, 0, 0), new THREE.Vector3(10, 0, 0), new THREE.Vector3(0, 10, 0)]);
  const mesh = new THREE.Mesh(geo);
  const hit = (x, y) => ({ object: mesh, face: { a: 0, b: 1, c: 2 }, point: new THREE.Vector3(x, y, 0) });
  const px = (v) => [v.x * 10, v.y * 10]; // 10 px per metre
  assert.equal(snapHit(hit(0.5, 0.5), px, [5, 5]).kind, 'vertex');
  assert.deepEqual(snapHit(hit(0.5, 0.5), px, [5, 5]).point.toArray(), [0, 0, 0]);
  const mid = snapHit(hit(5, 0.5), px, [50, 5]);
  assert.equal(mid.kind, 'midpoint');
  assert.deepEqual(mid.point.toArray(), [5, 0, 0]);
  const edge = snapHit(hit(3, 0.4), px, [30, 4]);
  assert.equal(edge.kind, 'edge');
  assert.deepEqual(edge.point.toArray(), [3, 0, 0]);
  assert.equal(snapHit(hit(3, 3), px, [30, 30]).kind, 'face');
  // The corner at the origin is cut away: the nearest drawn candidate wins instead.
  assert.notDeepEqual(snapHit(hit(0.5, 0.5), px, [5, 5], (v) => v.length() > 0.1).point.toArray(), [0, 0, 0]);
});

test('model tree groups by path and class and searches every property value', async () => {
  const { buildIndex, search, groupNodes } = await import('../src/tools/tree.js');
  const entries = [];
  for (let i = 0; i < 20000; i += 1) {
    entries.push({ node: `n${i}`, name: `Wall ${i}`, element_id: `GUID${i}`, ifc_class: i % 2 ? 'IfcWall' : 'IfcSlab',
      path: ['Site', 'Building', `Storey ${i % 4}`], properties: { Pset_WallCommon: { FireRating: i === 777 ? 'EI90-S' : 'EI30-S' } } });
  }
  const index = buildIndex(entries);
  assert.equal(index.root.count, 20000);
  const storey = index.root.children.get('Site').children.get('Building').children.get('Storey 1');
  assert.equal(storey.count, 5000);
  assert.deepEqual([...storey.children.keys()], ['IfcWall']);
  assert.equal(groupNodes(storey).length, 5000);
  assert.deepEqual(search(index, 'ei90-s').results.map((r) => r.node), ['n777']);
  assert.equal(search(index, 'GUID19999').total, 1);
  assert.equal(search(index, 'ifcslab').total, 10000);
  assert.equal(search(index, 'ifcslab').results.length, 200);
  assert.equal(search(index, '  ').total, 0);
});
