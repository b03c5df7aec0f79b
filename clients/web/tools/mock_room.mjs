// Development and unit-test tool. A minimal in-memory implementation of the server side of docs/protocol.md (hello/welcome with
// snapshot or replay, ops with op_id dedup, ack/commit, presence, poses) over real websockets.
// It exists only to unit-test the client's connection logic in node; the browser tests in
// tests/web run against the real vrcollab server.
import { WebSocketServer } from 'ws';
import { applyOp, emptyState } from '../src/state/room.js';

export async function startMockRoom({ port = 0 } = {}) {
  const wss = new WebSocketServer({ port, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const room = { seq: 0, log: [], state: emptyState(), byOpId: new Map(), sessions: new Map(), received: [] };
  let nextSession = 1;
  const broadcast = (msg, except) => {
    for (const [ws, s] of room.sessions) if (s.welcomed && ws !== except) ws.send(JSON.stringify(msg));
  };
  wss.on('connection', (ws) => {
    const sess = { id: `s-${nextSession++}`, welcomed: false };
    room.sessions.set(ws, sess);
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      room.received.push(msg);
      if (!sess.welcomed) {
        if (msg.type !== 'hello') return ws.close(4400, 'hello first');
        sess.welcomed = true;
        sess.entry = { session_id: sess.id, user_id: `u-${msg.client_id}`, name: msg.name, color: msg.color, role: 'editor', device: msg.device };
        const replay = Number.isInteger(msg.last_seq) && msg.last_seq >= 0;
        ws.send(JSON.stringify({
          type: 'welcome', v: 1, session_id: sess.id, user: sess.entry, room: { room_id: 'r', project_id: 'p', model: null },
          seq: room.seq, snapshot: replay ? null : JSON.parse(JSON.stringify(room.state)),
          ops: replay ? room.log.filter((c) => c.seq > msg.last_seq) : null,
          presence: [...room.sessions.values()].filter((s) => s.welcomed).map((s) => s.entry), tick_hz: 30, heartbeat_s: 10,
        }));
        broadcast({ type: 'presence', event: 'join', entry: sess.entry }, ws);
        return;
      }
      if (msg.type === 'op') {
        const prev = room.byOpId.get(msg.op_id);
        if (prev) return ws.send(JSON.stringify({ type: 'ack', op_id: msg.op_id, seq: prev.seq, commit: prev }));
        if (msg.kind === 'annotation.create' && room.state.annotations[msg.annotation.id]) {
          return ws.send(JSON.stringify({ type: 'reject', op_id: msg.op_id, code: 'conflict', reason: 'id exists' }));
        }
        const { type, ...fields } = msg;
        const commit = { ...fields, seq: ++room.seq, author: sess.entry.user_id, t: Date.now() / 1000 };
        applyOp(room.state, commit, commit);
        room.log.push(commit);
        room.byOpId.set(msg.op_id, commit);
        ws.send(JSON.stringify({ type: 'ack', op_id: msg.op_id, seq: commit.seq, commit }));
        broadcast({ type: 'commit', ...commit }, ws);
      } else if (msg.type === 'pose') {
        const { type, ...p } = msg;
        broadcast({ type: 'poses', t: Date.now() / 1000, poses: { [sess.id]: p } }, ws);
      } else if (msg.type === 'ping') {
        ws.send(JSON.stringify({ type: 'pong', t: msg.t, server_t: Date.now() / 1000 }));
      }
    });
    ws.on('close', () => {
      room.sessions.delete(ws);
      if (sess.welcomed) broadcast({ type: 'presence', event: 'leave', entry: sess.entry });
    });
  });
  return {
    room,
    url: `ws://127.0.0.1:${wss.address().port}/ws/rooms/r`,
    port: wss.address().port,
    /** Drop every connection abruptly (like a server crash). */
    dropAll() {
      for (const ws of room.sessions.keys()) ws.terminate();
    },
    close: () => new Promise((r) => { for (const ws of wss.clients) ws.terminate(); wss.close(r); }),
  };
}
