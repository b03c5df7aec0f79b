import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Outbox, MemoryStorage } from '../src/state/outbox.js';

const op = (id) => ({ type: 'op', op_id: id, kind: 'node.set', node_id: 'n', props: {} });

test('queued ops survive a reload through storage', () => {
  const storage = new MemoryStorage();
  const a = new Outbox({ storage, key: 'k' });
  a.add(op('1'));
  a.add(op('2'));
  assert.equal(a.add(op('1')), false, 'same op id is queued once');
  const b = new Outbox({ storage, key: 'k' });
  assert.deepEqual(b.items.map((o) => o.op_id), ['1', '2']);
  b.settle('1');
  assert.deepEqual(new Outbox({ storage, key: 'k' }).items.map((o) => o.op_id), ['2']);
  b.settle('2');
  assert.equal(storage.getItem('k'), null);
});

test('each op is sent once per connection, again after reset', () => {
  const o = new Outbox({ key: 'k' });
  o.add(op('1'));
  assert.equal(o.takeUnsent().length, 1);
  o.add(op('2'));
  assert.deepEqual(o.takeUnsent().map((x) => x.op_id), ['2']);
  assert.equal(o.takeUnsent().length, 0);
  o.resetSent();
  assert.deepEqual(o.takeUnsent().map((x) => x.op_id), ['1', '2']);
});

test('retain drops ops committed during a replay; corrupt storage is ignored', () => {
  const storage = new MemoryStorage();
  storage.setItem('k', '{not json');
  const o = new Outbox({ storage, key: 'k' });
  assert.equal(o.size, 0);
  o.add(op('1'));
  o.add(op('2'));
  o.retain(['2']);
  assert.deepEqual(o.items.map((x) => x.op_id), ['2']);
});
