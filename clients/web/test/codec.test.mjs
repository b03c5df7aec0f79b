import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as codec from '../src/state/codec.js';

test('decode rejects non-objects, unknown types and bad welcomes', () => {
  assert.throws(() => codec.decode('not json'), codec.ProtocolError);
  assert.throws(() => codec.decode('[1,2]'), /not a JSON object/);
  assert.throws(() => codec.decode('{"type":"nope"}'), /unknown message type/);
  assert.throws(() => codec.decode('{"type":"welcome","v":2,"seq":1,"user":{},"room":{}}'), /version/);
  assert.throws(() => codec.decode('{"type":"ack","op_id":"x","seq":1.5}'), /bad ack/);
  const w = codec.decode('{"type":"welcome","v":1,"seq":3,"user":{},"room":{},"snapshot":null,"ops":[]}');
  assert.equal(w.seq, 3);
});

test('encode refuses NaN and Infinity anywhere', () => {
  assert.throws(() => codec.encode({ type: 'op', x: [1, Number.NaN] }), codec.ProtocolError);
  assert.throws(() => codec.encode({ type: 'op', x: { y: Infinity } }), codec.ProtocolError);
  assert.equal(JSON.parse(codec.encode({ type: 'ping', t: 1.5 })).t, 1.5);
});

test('hello carries version, device and last_seq', () => {
  const h = codec.hello({ clientId: 'c1', lastSeq: 7, name: 'A', color: '#112233', device: 'vr' });
  assert.deepEqual(h, { type: 'hello', v: 1, client_id: 'c1', last_seq: 7, name: 'A', color: '#112233', device: 'vr' });
  assert.equal(codec.hello({ clientId: 'c', lastSeq: undefined, name: 'A', color: '#000000', device: 'desktop' }).last_seq, null);
  assert.throws(() => codec.hello({ clientId: 'c', name: 'A', color: '#000', device: 'toaster' }));
});

test('ops get unique ids and known kinds only', () => {
  const a = codec.op('node.set', { node_id: 'n', props: { visible: false } });
  const b = codec.op('node.set', { node_id: 'n', props: { visible: true } });
  assert.notEqual(a.op_id, b.op_id);
  assert.equal(a.type, 'op');
  assert.throws(() => codec.op('node.explode', {}), /unknown op kind/);
});

test('pose rounds vectors and validates lengths', () => {
  const p = codec.pose({ head: { p: [1.23456789, 0, 0], q: [0, 0, 0, 1] }, laser: { origin: [0, 0, 0], dir: [0, 0, -1], hit: null } });
  assert.deepEqual(p.head.p, [1.234568, 0, 0]);
  assert.equal(p.left, null);
  assert.equal(p.laser.node_id, null);
  assert.throws(() => codec.pose({ head: { p: [1, 2], q: [0, 0, 0, 1] } }), /pose.p/);
});

test('roles gate op kinds', () => {
  assert.equal(codec.canSend('viewer', 'annotation.create'), false);
  assert.equal(codec.canSend('reviewer', 'annotation.create'), true);
  assert.equal(codec.canSend('reviewer', 'node.set'), false);
  assert.equal(codec.canSend('owner', 'section.set'), true);
  assert.equal(codec.canSend('owner', 'bogus'), false);
});

test('newAnnotation validates enums and vectors', () => {
  const a = codec.newAnnotation({ position: [1, 2, 3], normal: [0, 1, 0], text: 'hi' });
  assert.match(a.id, /^a-/);
  assert.equal(a.status, 'open');
  assert.throws(() => codec.newAnnotation({ position: [1, 2, 3], normal: [0, 1, 0], status: 'done' }), /status/);
  assert.throws(() => codec.newAnnotation({ position: [1, 2, Number.NaN], normal: [0, 1, 0] }), /position/);
});

// protocol R17: lone surrogates are refused in both directions; valid pairs are fine
test('decode and encode refuse strings that are not valid Unicode', () => {
  assert.throws(() => codec.decode('{"type":"commit","seq":1,"kind":"comment.add","text":"\\ud800"}'), /valid Unicode/);
  assert.throws(() => codec.decode('{"type":"presence","event":"join","entry":{"session_id":"s","name":"a\\udc00"}}'), /valid Unicode/);
  assert.throws(() => codec.decode('{"type":"poses","t":1,"poses":{"\\udfff":{}}}'), /valid Unicode/);
  const ok = codec.decode('{"type":"commit","seq":1,"kind":"comment.add","text":"\\ud83d\\ude00 ok"}');
  assert.equal(ok.text, '\u{1F600} ok');
  assert.throws(() => codec.encode({ type: 'op', text: 'x\uD800' }), /valid Unicode/);
  assert.throws(() => codec.encode({ type: 'op', ['\uDC00']: 1 }), /valid Unicode/);
  assert.equal(JSON.parse(codec.encode({ type: 'op', text: '\u{1F600}' })).text, '\u{1F600}');
});

// protocol R18: names carry no control or bidi characters; hello never sends one
test('names: control and bidi characters are refused or removed', () => {
  for (const bad of ['a\u202Eb', 'nul\u0000', 'bel\u0007', 'iso\u2066x', 'line\u2028', '\uFEFF', 'x\uD800']) {
    assert.notEqual(codec.nameProblem(bad), null, JSON.stringify(bad));
  }
  assert.equal(codec.nameProblem('Zoë 👩‍💻'), null);
  assert.equal(codec.cleanName(' Eve\u202E\u0000\u0007  lin '), 'Eve lin');
  const h = codec.hello({ clientId: 'c', name: 'Al\u202Eice', color: '#000000', device: 'desktop' });
  assert.equal(h.name, 'Alice');
});

test('welcome_part messages are validated', () => {
  const p = codec.decode('{"type":"welcome_part","part":0,"of":2,"annotations":{},"comments":{"a":[]}}');
  assert.equal(p.of, 2);
  assert.throws(() => codec.decode('{"type":"welcome_part","part":"x","of":2}'), /welcome_part/);
  assert.throws(() => codec.decode('{"type":"welcome_part","part":0,"of":1,"ops":{}}'), /ops/);
});

// shared vectors with the Python codec (tests/fixtures/protocol_strings.json, R17/R18)
test('string vectors agree with the server', async () => {
  const { readFile } = await import('node:fs/promises');
  const url = new URL('../../../tests/fixtures/protocol_strings.json', import.meta.url);
  const { vectors } = JSON.parse(await readFile(url, 'utf8'));
  assert.ok(vectors.length > 10);
  for (const v of vectors) {
    const text = JSON.parse(v.json);
    assert.equal(codec.isWellFormed(text), v.valid_unicode, v.name);
    assert.equal(codec.nameProblem(text) === null, v.name_ok, v.name);
    const frame = `{"type":"error","code":"x","reason":${v.json}}`;
    if (v.valid_unicode) assert.equal(codec.decode(frame).reason, text, v.name);
    else assert.throws(() => codec.decode(frame), /valid Unicode/, v.name);
  }
});
