// The sync connection: one websocket to /ws/rooms/{room}, hello/welcome, durable ops through the
// outbox, heartbeat, and reconnect-with-last_seq. No DOM; the WebSocket class and timers are
// injected so node tests can drive it against a real socket server.

import * as codec from './codec.js';
import { RoomMirror } from './room.js';
import { Outbox, MemoryStorage } from './outbox.js';
import { CLOSE, FATAL_CLOSE_CODES } from './protocol.gen.js';

/** Close codes after which reconnecting cannot help (protocol close-code table, generated). */
const FATAL_CODES = new Map(Object.entries(FATAL_CLOSE_CODES).map(([c, why]) => [Number(c), why]));

export const STATES = Object.freeze(['idle', 'connecting', 'syncing', 'online', 'offline', 'closed']);

export class Connection {
  /**
   * @param {object} o
   * @param {string} o.url            full ws:// or wss:// URL including ?token=
   * @param {string} o.roomId
   * @param {string} o.clientId       stable per tab
   * @param {{name:string,color:string,device:string}} o.identity
   * @param {Function} [o.WebSocket]  constructor (defaults to globalThis.WebSocket)
   * @param {Storage} [o.storage]     where the outbox persists (sessionStorage in the browser)
   */
  constructor({
    url, roomId, clientId, identity, WebSocket: WS = globalThis.WebSocket,
    storage = new MemoryStorage(), now = () => Date.now() / 1000,
    setTimer = (fn, ms) => setTimeout(fn, ms), clearTimer = (h) => clearTimeout(h),
  }) {
    this.url = url;
    this.roomId = roomId;
    this.clientId = clientId;
    this.identity = { ...identity };
    this.WS = WS;
    this.now = now;
    this.setTimer = setTimer;
    this.clearTimer = clearTimer;
    this.mirror = new RoomMirror({ now });
    this.outbox = new Outbox({ storage, key: `vrcollab.outbox.${roomId}.${clientId}` });
    this.mirror.restorePending(this.outbox.items);
    this.state = 'idle';
    this.welcomed = false;
    this.welcome = null;
    this.participants = new Map();
    this.ws = null;
    this.attempt = 0;
    this.stats = { connects: 0, welcomes: 0, acks: 0, rejects: 0, commits: 0, sent_ops: 0, poses_in: 0 };
    this.lastError = null;
    this._handlers = {};
    this._timers = { retry: null, ping: null };
  }

  /** Subscribe to 'state', 'welcome', 'presence', 'poses', 'gather', 'view', 'reject', 'error'. */
  on(event, fn) {
    (this._handlers[event] ??= new Set()).add(fn);
    return () => this._handlers[event].delete(fn);
  }

  _emit(event, arg) {
    for (const fn of this._handlers[event] ?? []) {
      try {
        fn(arg);
      } catch (err) {
        console.error(`vrcollab: ${event} handler failed`, err);
      }
    }
  }

  _setState(s, detail = null) {
    if (this.state === s) return;
    this.state = s;
    this._emit('state', { state: s, detail });
  }

  get role() {
    return this.welcome?.user?.role ?? 'viewer';
  }

  get sessionId() {
    return this.welcome?.session_id ?? null;
  }

  start() {
    if (this.state === 'closed') return;
    this._open();
  }

  /** Close for good (leaving the room). */
  stop() {
    this._setState('closed', 'left');
    this._clearTimers();
    if (this.ws) {
      try {
        this.ws.close(CLOSE.NORMAL);
      } catch {
        // already closed
      }
    }
  }

  _clearTimers() {
    for (const k of Object.keys(this._timers)) {
      if (this._timers[k] !== null) this.clearTimer(this._timers[k]);
      this._timers[k] = null;
    }
  }

  _open() {
    this._setState('connecting');
    this.stats.connects += 1;
    let ws;
    try {
      ws = new this.WS(this.url);
    } catch (err) {
      this.lastError = String(err);
      this._scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this._setState('syncing');
      const lastSeq = this.welcomed ? this.mirror.seq : null;
      this._raw(codec.hello({ clientId: this.clientId, lastSeq, ...this.identity }));
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      const data = typeof ev.data === 'string' ? ev.data : String(ev.data);
      let msg;
      try {
        msg = codec.decode(data);
      } catch (err) {
        this.lastError = err.message;
        this._emit('error', { code: 'client_decode', reason: err.message });
        return;
      }
      this._handle(msg);
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this._onClosed(ev.code, ev.reason);
    };
    ws.onerror = () => {
      // onclose follows; nothing else to do.
    };
  }

  _onClosed(code, reason) {
    if (this._timers.ping !== null) this.clearTimer(this._timers.ping);
    this._timers.ping = null;
    if (this.state === 'closed') return;
    if (FATAL_CODES.has(code)) {
      this.lastError = `${FATAL_CODES.get(code)}${reason ? `: ${reason}` : ''}`;
      this._setState('closed', this.lastError);
      return;
    }
    this.lastError = `closed ${code}${reason ? ` ${reason}` : ''}`;
    for (const sid of this.participants.keys()) this._emit('presence', { event: 'leave', entry: { session_id: sid } });
    this.participants.clear();
    this._setState('offline', this.lastError);
    this._scheduleRetry();
  }

  _scheduleRetry() {
    this._setState('offline', this.lastError);
    const delay = Math.min(5000, 250 * 2 ** Math.min(this.attempt, 5)) * (0.75 + Math.random() * 0.5);
    this.attempt += 1;
    this._timers.retry = this.setTimer(() => {
      this._timers.retry = null;
      if (this.state !== 'closed') this._open();
    }, delay);
  }

  /** Reconnect now (after a detected gap, or when the user asks). */
  reconnect() {
    if (this.state === 'closed') return;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      try {
        ws.close(CLOSE.NORMAL);
      } catch {
        // ignore
      }
    }
    if (this._timers.retry !== null) this.clearTimer(this._timers.retry);
    this._timers.retry = null;
    this._open();
  }

  _raw(msg) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    this.ws.send(codec.encode(msg));
    return true;
  }

  _handle(msg) {
    switch (msg.type) {
      case 'welcome':
        if (Number.isInteger(msg.parts) && msg.parts > 0) {
          // R6: a paged welcome; not a base to resume from until its last part is in
          this.welcomed = false;
          this._pagedWelcome = msg;
          this.mirror.welcome(msg);
        } else {
          this.mirror.welcome(msg);
          this._onWelcome(msg);
        }
        break;
      case 'welcome_part':
        if (!this._pagedWelcome) break;
        this.mirror.welcomePart(msg);
        if (this.mirror.partsLeft === 0) {
          const w = this._pagedWelcome;
          this._pagedWelcome = null;
          this._onWelcome(w);
        }
        break;
      case 'ack':
        this.stats.acks += 1;
        this.outbox.settle(msg.op_id);
        this.mirror.ack(msg);
        if (this.mirror.gap) {
          this.mirror.gap = null;
          this.reconnect();
        }
        break;
      case 'reject':
        this.stats.rejects += 1;
        this.outbox.settle(msg.op_id);
        this.mirror.reject(msg);
        this._emit('reject', msg);
        break;
      case 'commit':
        this.stats.commits += 1;
        this.outbox.settle(msg.op_id);
        this.mirror.commit(msg);
        // R16: the room moved to another model version; the client reloads the model.
        if (msg.kind === 'room.model') this._emit('model', msg.model ?? null);
        if (this.mirror.gap) {
          this.mirror.gap = null;
          this.reconnect();
        }
        break;
      case 'presence':
        if (msg.event === 'leave') this.participants.delete(msg.entry.session_id);
        else this.participants.set(msg.entry.session_id, { ...this.participants.get(msg.entry.session_id), ...msg.entry });
        this._emit('presence', msg);
        break;
      case 'poses':
        // R12: one shared frame per room per tick, our own pose included: skip our entry.
        if (this.sessionId) delete msg.poses[this.sessionId];
        if (Object.keys(msg.poses).length === 0) break;
        this.stats.poses_in += 1;
        this._emit('poses', msg);
        break;
      case 'gather':
        this._emit('gather', msg);
        break;
      case 'view':
        this._emit('view', msg);
        break;
      case 'meeting': // R29: the running meeting and whether it is recorded
        this.meeting = msg;
        this._emit('meeting', msg);
        break;
      case 'pong':
        this.rtt = this.now() - msg.t;
        this.serverOffset = typeof msg.server_t === 'number' ? msg.server_t - (msg.t + this.rtt / 2) : null;
        break;
      case 'error':
        this.lastError = `${msg.code}: ${msg.reason}`;
        this._emit('error', msg);
        break;
      default:
        if (msg.type.startsWith('voice.')) this._emit('voice', msg); // src/voice/ (R25-R28)
        break;
    }
  }

  _onWelcome(msg) {
    this.welcome = msg;
    this.welcomed = true;
    this.attempt = 0;
    this.stats.welcomes += 1;
    // A replay may have committed some of our queued ops; the rest go out again (safe, R7).
    this.outbox.retain(this.mirror.pending.map((o) => o.op_id));
    this.participants.clear();
    for (const e of msg.presence ?? []) {
      if (e.session_id !== msg.session_id) this.participants.set(e.session_id, e);
    }
    this._setState('online');
    this._emit('welcome', msg);
    this.outbox.resetSent();
    this.flush();
    this._schedulePing(Math.max(1, Math.min(10, (msg.heartbeat_s ?? 10) / 2)));
  }

  _schedulePing(seconds) {
    this._timers.ping = this.setTimer(() => {
      this._timers.ping = null;
      if (this.state !== 'online') return;
      this._raw(codec.ping(this.now()));
      this._schedulePing(seconds);
    }, seconds * 1000);
  }

  /** Send whatever is queued and unsent (only once the session is welcomed). */
  flush() {
    if (this.state !== 'online') return;
    for (const o of this.outbox.takeUnsent()) {
      if (this._raw(o)) this.stats.sent_ops += 1;
    }
  }

  /**
   * Make a durable op: applied locally at once, queued, sent when online.
   * Returns the op message (its op_id identifies the ack/reject).
   */
  send(kind, fields) {
    const o = codec.op(kind, fields);
    this.outbox.add(o);
    this.mirror.local(o);
    this.flush();
    return o;
  }

  /** Ephemeral pose (R12): dropped when not online, never queued. */
  sendPose(p) {
    if (this.state !== 'online') return false;
    return this._raw(codec.pose(p));
  }

  /** A voice signalling message (R25-R28): dropped when not online, never queued. */
  sendVoice(msg) {
    if (this.state !== 'online') return false;
    return this._raw(msg);
  }

  /** Room command (R13). */
  command(name, extra = {}) {
    if (this.state !== 'online') return false;
    return this._raw(codec.cmd(name, extra));
  }

  /** Update our device (e.g. entering VR); the server learns it on the next hello. */
  setDevice(device) {
    this.identity.device = device;
  }
}
