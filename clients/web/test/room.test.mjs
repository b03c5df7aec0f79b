import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoomMirror, applyOp, annotationList, emptyState } from '../src/state/room.js';
import * as codec from '../src/state/codec.js';

function welcome(seq, snapshot = null, ops = null) {
  return { type: 'welcome', v: 1, session_id: 's-1', user: { user_id: 'u1', role: 'editor' }, room: {}, seq, snapshot, ops };
}

function createOp(id, text = 'x') {
  return codec.op('annotation.create', { annotation: { ...codec.newAnnotation({ position: [0, 0, 0], normal: [0, 1, 0], text }), id } });
}

test('snapshot then commits in order', () => {
  const m = new RoomMirror();
  m.welcome(welcome(5, { nodes: { n1: { transform: null, visible: true, color: null } }, annotations: {}, measurements: {}, sections: {}, presenter: null }));
  assert.equal(m.seq, 5);
  m.commit({ seq: 6, op_id: 'o6', kind: 'node.set', author: 'u2', t: 1, node_id: 'n1', props: { visible: false } });
  assert.equal(m.view.nodes.n1.visible, false);
  // A duplicate (already applied) commit changes nothing.
  m.commit({ seq: 6, op_id: 'o6', kind: 'node.set', author: 'u2', t: 1, node_id: 'n1', props: { visible: true } });
  assert.equal(m.view.nodes.n1.visible, false);
});

test('optimistic local op, then ack moves it to confirmed', () => {
  const m = new RoomMirror();
  m.welcome(welcome(0, {}));
  const o = createOp('a1', 'hello');
  m.local(o);
  assert.equal(m.view.annotations.a1.text, 'hello');
  assert.equal(m.confirmed.annotations.a1, undefined);
  const { type, ...fields } = o;
  m.ack({ type: 'ack', op_id: o.op_id, seq: 1, commit: { ...fields, seq: 1, author: 'u1', t: 10 } });
  assert.equal(m.pending.length, 0);
  assert.equal(m.confirmed.annotations.a1.author, 'u1');
  assert.equal(m.view.annotations.a1.created, 10);
});

test('reject drops the optimistic op and records why', () => {
  const m = new RoomMirror();
  m.welcome(welcome(0, {}));
  const o = codec.op('node.set', { node_id: 'n', props: { visible: false } });
  m.local(o);
  assert.equal(m.view.nodes.n.visible, false);
  m.reject({ type: 'reject', op_id: o.op_id, code: 'forbidden', reason: 'viewer' });
  assert.equal(m.view.nodes.n, undefined);
  assert.equal(m.rejections[0].code, 'forbidden');
});

test('replayed commit of our own pending op settles it (no duplicate)', () => {
  const m = new RoomMirror();
  m.welcome(welcome(2, {}));
  const o = createOp('a9');
  m.local(o);
  const { type, ...fields } = o;
  m.welcome(welcome(3, null, [{ ...fields, seq: 3, author: 'u1', t: 5 }]));
  assert.equal(m.pending.length, 0);
  assert.equal(Object.keys(m.view.annotations).length, 1);
});

test('gap in seq is flagged', () => {
  const m = new RoomMirror();
  m.welcome(welcome(2, {}));
  m.commit({ seq: 4, op_id: 'x', kind: 'presenter.set', user_id: 'u2' });
  assert.deepEqual(m.gap, { expected: 3, got: 4 });
});

test('comments, updates, deletes and sections apply', () => {
  const s = emptyState();
  applyOp(s, { kind: 'annotation.create', annotation: { id: 'a', text: 't', status: 'open', position: [0, 0, 0], normal: [0, 1, 0] } }, { author: 'u', t: 1 });
  applyOp(s, { kind: 'comment.add', annotation_id: 'a', comment: { id: 'c', text: 'reply' } }, { author: 'v', t: 2 });
  applyOp(s, { kind: 'comment.edit', annotation_id: 'a', comment_id: 'c', text: 'edited' }, { t: 3 });
  assert.equal(s.annotations.a.comments[0].text, 'edited');
  assert.equal(s.annotations.a.comments[0].author, 'v');
  applyOp(s, { kind: 'annotation.update', id: 'a', props: { status: 'resolved' } }, { t: 4 });
  assert.equal(s.annotations.a.status, 'resolved');
  assert.equal(annotationList(s, { status: 'open' }).length, 0);
  assert.equal(annotationList(s, { status: 'resolved' }).length, 1);
  applyOp(s, { kind: 'comment.delete', annotation_id: 'a', comment_id: 'c' });
  assert.equal(s.annotations.a.comments.length, 0);
  applyOp(s, { kind: 'section.set', section: { id: 's', normal: [0, 0, 1], offset: 1, enabled: true } });
  assert.equal(s.sections.s.offset, 1);
  applyOp(s, { kind: 'section.delete', id: 's' });
  applyOp(s, { kind: 'annotation.delete', id: 'a' });
  assert.deepEqual(s.annotations, {});
  assert.deepEqual(s.sections, {});
});

test('listeners hear every change', () => {
  const m = new RoomMirror();
  const reasons = [];
  m.onChange((_v, r) => reasons.push(r));
  m.welcome(welcome(0, {}));
  m.local(codec.op('presenter.set', { user_id: 'u1' }));
  assert.deepEqual(reasons, ['welcome', 'local']);
  assert.equal(m.view.presenter, 'u1');
});

// protocol R6: a paged welcome rebuilds the state and settles seq after the last part
test('a paged welcome (snapshot and replay) rebuilds the state', () => {
  const m = new RoomMirror();
  const reasons = [];
  m.onChange((_v, r) => reasons.push(r));
  const empty = { nodes: {}, annotations: {}, measurements: {}, sections: {}, presenter: 'u9' };
  m.welcome({ ...welcome(7, empty), parts: 2 });
  assert.deepEqual(reasons, []);
  m.welcomePart({ type: 'welcome_part', part: 0, of: 2, annotations: { a: { id: 'a', comments: [] } }, comments: { a: [{ id: 'c1' }] } });
  m.welcomePart({ type: 'welcome_part', part: 1, of: 2, comments: { a: [{ id: 'c2' }] }, nodes: { n: { visible: false } } });
  assert.deepEqual(reasons, ['welcome']);
  assert.equal(m.seq, 7);
  assert.deepEqual(m.confirmed.annotations.a.comments.map((c) => c.id), ['c1', 'c2']);
  assert.equal(m.confirmed.nodes.n.visible, false);
  assert.equal(m.confirmed.presenter, 'u9');
  const r = new RoomMirror();
  r.welcome(welcome(0, {}));
  r.welcome({ ...welcome(2, null, []), parts: 1 });
  const ann = { id: 'b', position: [0, 0, 0] };
  r.welcomePart({ type: 'welcome_part', part: 0, of: 1, ops: [
    { seq: 1, op_id: 'o1', kind: 'annotation.create', author: 'u', t: 1, annotation: ann },
    { seq: 2, op_id: 'o2', kind: 'annotation.update', author: 'u', t: 2, id: 'b', props: { title: 'T' } },
  ] });
  assert.equal(r.seq, 2);
  assert.equal(r.confirmed.annotations.b.title, 'T');
});

test('a BCF import keeps the archive author as imported_from, the importer as author', () => {
  const m = new RoomMirror();
  m.welcome(welcome(0, {}));
  const from = { source: 'bcf', author: 'Olivia Owner' };
  m.commit({ seq: 1, op_id: 'bcf:a', kind: 'annotation.create', author: 'u-rita', t: 1,
    annotation: { id: 'a', position: [0, 0, 0], title: 't', imported_from: from } });
  m.commit({ seq: 2, op_id: 'bcf:a:c', kind: 'comment.add', author: 'u-rita', t: 2,
    annotation_id: 'a', comment: { id: 'c', text: 'yes', imported_from: from } });
  const a = m.view.annotations.a;
  assert.equal(a.author, 'u-rita');
  assert.deepEqual(a.imported_from, from);
  assert.equal(a.comments[0].author, 'u-rita');
  assert.deepEqual(a.comments[0].imported_from, from);
});
