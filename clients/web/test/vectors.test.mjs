// Shared protocol vectors (tests/vectors/): the JS codec and room mirror must give the same
// results as the Python ones (tests/sync/test_vectors.py runs the same files).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as codec from '../src/state/codec.js';
import { RoomMirror } from '../src/state/room.js';

const VECTORS = fileURLToPath(new URL('../../../tests/vectors/', import.meta.url));
const load = (name) => JSON.parse(readFileSync(`${VECTORS}${name}`, 'utf8'));
const CODEC = load('codec.json');
const COMMITS = load('commits.json');

for (const c of CODEC.server) {
  test(`server frame: ${c.name}`, () => {
    if (c.ok) codec.decode(c.text);
    else assert.throws(() => codec.decode(c.text), codec.ProtocolError);
  });
}

for (const c of CODEC.builders) {
  test(`builder: ${c.name}`, () => {
    if (c.call === 'viewpoint') {
      assert.deepEqual(codec.viewpoint(c.args), c.result);
    } else {
      const { id, ...rest } = codec.newAnnotation(c.args);
      assert.equal(typeof id, 'string');
      assert.deepEqual(rest, c.result);
    }
  });
}

/** Feed server messages to a mirror as the connection does; stop at a gap (it reconnects). */
export function runMirror(messages) {
  const m = new RoomMirror();
  for (const msg of messages) {
    const obj = codec.decode(JSON.stringify(msg));
    if (obj.type === 'welcome') m.welcome(obj);
    else if (obj.type === 'welcome_part') m.welcomePart(obj);
    else if (obj.type === 'commit') m.commit(obj);
    else if (obj.type === 'ack') m.ack(obj);
    if (m.gap) return { mirror: m, gap: true };
  }
  return { mirror: m, gap: false };
}

for (const c of COMMITS.cases) {
  test(`commits: ${c.name}`, () => {
    const { mirror, gap } = runMirror(c.messages);
    assert.equal(gap, c.expect.gap);
    assert.equal(mirror.seq, c.expect.seq);
    assert.deepEqual(JSON.parse(JSON.stringify(mirror.confirmed)), c.expect.state);
  });
}
