import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffVersions, hashHex, versionElements, compareKey } from '../src/tools/compare.js';

test('elements match by GlobalId, else by node name, and compare by geometry hash', () => {
  const older = versionElements({
    globalIds: ['A', 'B', 'C', null, null], names: ['a', 'b', 'c', 'mesh', ''], hashes: ['1', '2', '3', '4', '5'],
  });
  const newer = versionElements({
    globalIds: ['B', 'A', 'D', null], names: ['b', 'a moved', 'd', 'mesh'], hashes: ['2', '9', '7', null],
  });
  assert.equal(older.length, 4, 'a row with neither GlobalId nor name has no key');
  const d = diffVersions(older, newer);
  assert.deepEqual(d.added, [2]); // D, new row 2
  assert.deepEqual(d.changed, [1, 3]); // A's hash changed; mesh's hash unknown now: look at it
  assert.deepEqual(d.removed, [2]); // C, old row 2
  assert.equal(d.unchanged, 1); // B
  assert.equal(compareKey(null, 'x'), 'node:x');
});

test('hash files are 32 bytes per element', () => {
  const buf = new Uint8Array(64);
  buf[0] = 0xab;
  buf[63] = 0x01;
  const hex = hashHex(buf.buffer, 2);
  assert.equal(hex[0], `ab${'00'.repeat(31)}`);
  assert.equal(hex[1], `${'00'.repeat(31)}01`);
  assert.equal(hashHex(buf.buffer, 3), null);
});
