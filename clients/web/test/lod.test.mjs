import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectDeviceClass, targetLevel, loadPlan, levelUrl } from '../src/state/lod.js';

const manifest = {
  format: 'vrcollab-model', version: 1,
  levels: [
    { name: 'full', file: 'full.glb', triangles: 2000000 },
    { name: 'quest3', file: 'quest3.glb', triangles: 900000 },
    { name: 'quest2', file: 'quest2.glb', triangles: 500000 },
    { name: 'phone', file: 'phone.glb', triangles: 100000 },
  ],
  devices: {
    desktop: { level: 'full', status: 'pass' },
    quest3: { level: 'quest3', status: 'pass' },
    quest2: { level: 'quest3', status: 'fail', budget_triangles: 750000 },
    phone: { level: 'phone', status: 'pass' },
  },
};

test('device classes from user agents', () => {
  assert.equal(detectDeviceClass({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120' }), 'desktop');
  assert.equal(detectDeviceClass({ userAgent: 'Mozilla/5.0 (Linux; Android 12; Quest 3) OculusBrowser/30' }), 'quest3');
  assert.equal(detectDeviceClass({ userAgent: 'Mozilla/5.0 (Linux; Android 10; Quest 2) OculusBrowser/30' }), 'quest2');
  assert.equal(detectDeviceClass({ userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)' }), 'phone');
  assert.equal(detectDeviceClass({ userAgent: 'x', override: 'phone' }), 'phone');
  assert.equal(detectDeviceClass({ userAgent: 'x', xrHeadset: true }), 'quest3');
});

test('target level follows the manifest, stepping down when it fails the budget', () => {
  assert.equal(targetLevel(manifest, 'desktop').name, 'full');
  assert.equal(targetLevel(manifest, 'quest3').name, 'quest3');
  assert.equal(targetLevel(manifest, 'quest2').name, 'quest2');
  const noDevices = { ...manifest, devices: {} };
  assert.equal(targetLevel(noDevices, 'desktop').name, 'full');
  assert.equal(targetLevel(noDevices, 'quest2').name, 'quest2');
});

test('plan loads the coarsest level first, then the target, once per file', () => {
  assert.deepEqual(loadPlan(manifest, 'desktop').map((l) => l.name), ['phone', 'full']);
  assert.deepEqual(loadPlan(manifest, 'phone').map((l) => l.name), ['phone']);
  const shared = { ...manifest, levels: manifest.levels.map((l) => ({ ...l, file: 'one.glb' })) };
  assert.deepEqual(loadPlan(shared, 'desktop').map((l) => l.name), ['full']);
  assert.throws(() => loadPlan({ format: 'other' }, 'desktop'), /manifest/);
});

test('level URLs resolve next to the manifest', () => {
  assert.equal(levelUrl('http://h/api/assets/m/manifest.json', { file: 'full.glb' }), 'http://h/api/assets/m/full.glb');
  assert.equal(levelUrl('/x/manifest.json', { file: 'a.glb' }, 'http://h:1/'), 'http://h:1/x/a.glb');
  assert.equal(levelUrl('/x/manifest.json', { file: 'a.glb', url: '/blobs/abc' }, 'http://h:1/'), 'http://h:1/blobs/abc');
});
