import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Connection } from '../src/state/connection.js';
import { MemoryStorage } from '../src/state/outbox.js';
import { newAnnotation } from '../src/state/codec.js';
import { startMockRoom } from '../tools/mock_room.mjs';

async function until(pred, ms = 3000) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function client(url, name, storage = new MemoryStorage(), clientId = name) {
  const c = new Connection({ url, roomId: 'r', clientId, identity: { name, color: '#336699', device: 'desktop' }, WebSocket, storage });
  c.start();
  return c;
}

test('two clients see each other and each other\'s ops', async () => {
  const srv = await startMockRoom();
  const a = client(srv.url, 'A');
  await until(() => a.state === 'online');
  const b = client(srv.url, 'B');
  await until(() => b.state === 'online' && a.participants.size === 1);
  assert.equal(b.participants.size, 1);
  const sizesOnAck = [];
  a.mirror.onChange((_v, reason) => { if (reason === 'ack') sizesOnAck.push(a.outbox.size); });
  a.send('annotation.create', { annotation: { ...newAnnotation({ position: [1, 2, 3], normal: [0, 1, 0], text: 'leak' }), id: 'a1' } });
  await until(() => b.mirror.view.annotations.a1);
  assert.deepEqual(b.mirror.view.annotations.a1.position, [1, 2, 3]);
  await until(() => a.outbox.size === 0 && sizesOnAck.length === 1);
  assert.deepEqual(sizesOnAck, [0], 'listeners see the outbox already settled');
  a.stop(); b.stop();
  await srv.close();
});

test('offline ops are queued, sent after reconnect, never duplicated', async () => {
  const srv = await startMockRoom();
  const storage = new MemoryStorage();
  const a = client(srv.url, 'A', storage);
  await until(() => a.state === 'online');
  a.send('node.set', { node_id: 'n1', props: { visible: false } });
  await until(() => a.outbox.size === 0);
  srv.dropAll();
  await until(() => a.state === 'offline' || a.state === 'connecting');
  // Made while the socket is down: visible at once, queued in storage.
  const o1 = a.send('annotation.create', { annotation: { ...newAnnotation({ position: [0, 0, 0], normal: [0, 0, 1], text: 'offline 1' }), id: 'x1' } });
  assert.equal(a.mirror.view.annotations.x1.text, 'offline 1');
  await until(() => a.state === 'online', 8000);
  await until(() => a.outbox.size === 0);
  assert.equal(srv.room.log.filter((c) => c.op_id === o1.op_id).length, 1);
  // Resending the same op (e.g. ack lost) is acked with the original seq and applied once.
  a.outbox.add(o1);
  a.mirror.local(o1);
  a.reconnect();
  await until(() => a.state === 'online' && a.outbox.size === 0, 8000);
  assert.equal(Object.keys(a.mirror.view.annotations).length, 1);
  assert.equal(srv.room.seq, 2);
  assert.ok(srv.room.received.filter((m) => m.type === 'hello').at(-1).last_seq >= 2, 'reconnect sends last_seq');
  a.stop();
  await srv.close();
});

test('a reloaded page resends its persisted outbox', async () => {
  const srv = await startMockRoom();
  const storage = new MemoryStorage();
  const offline = new Connection({ url: 'ws://127.0.0.1:9/none', roomId: 'r', clientId: 'tab', identity: { name: 'T', color: '#000000', device: 'desktop' }, WebSocket, storage, setTimer: () => 0, clearTimer: () => {} });
  offline.send('comment.add', { annotation_id: 'missing', comment: { id: 'c1', text: 'queued' } });
  const reloaded = client(srv.url, 'T', storage, 'tab');
  await until(() => reloaded.outbox.size === 0);
  assert.equal(srv.room.log.length, 1);
  reloaded.stop();
  await srv.close();
});

test('poses flow only while online and reach the other client', async () => {
  const srv = await startMockRoom();
  const a = client(srv.url, 'A');
  const b = client(srv.url, 'B');
  await until(() => a.state === 'online' && b.state === 'online');
  const got = [];
  b.on('poses', (m) => got.push(m));
  assert.equal(a.sendPose({ head: { p: [1, 1.6, 2], q: [0, 0, 0, 1] } }), true);
  await until(() => got.length === 1);
  assert.deepEqual(Object.values(got[0].poses)[0].head.p, [1, 1.6, 2]);
  a.stop();
  assert.equal(a.sendPose({ head: { p: [0, 0, 0], q: [0, 0, 0, 1] } }), false);
  b.stop();
  await srv.close();
});
