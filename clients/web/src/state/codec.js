// Protocol codec for the vrcollab sync protocol, version 1 (docs/protocol.md).
// Pure: no DOM, no sockets. The only place the web client parses server frames.

// Version, enums, roles, op kinds, bounds and close codes come from the Python tables through
// the generated module (protocol/generate.py); never restate them here.
import {
  PROTOCOL_VERSION, SERVER_TYPES, ROLES, DEVICES, STATUSES, PRIORITIES, VIEWPOINT_DEFAULTS, OP_ROLES,
} from './protocol.gen.js';

export {
  PROTOCOL_VERSION, SERVER_TYPES, STATUSES, PRIORITIES, DEVICES, UNITS, ROLES, OP_ROLES,
} from './protocol.gen.js';

// --- string rules (protocol R17, R18), the JS side of vrcollab/sync/text.py ---------------

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// A hint that a frame may hold a surrogate (escaped, or any UTF-16 surrogate code unit).
const SURROGATE_HINT = /\\u[dD][89a-fA-F]|[\uD800-\uDFFF]/;
// Bidi marks/embeddings/overrides/isolates, C0/C1 controls, other format controls, private use,
// line/paragraph separators; ZWNJ/ZWJ (U+200C/U+200D) stay for scripts and emoji.
const NAME_FORBIDDEN = /[\p{Cc}\p{Co}\p{Cs}\p{Zl}\p{Zp}]|(?![\u200C\u200D])\p{Cf}/u;
const NAME_FORBIDDEN_ALL = /[\p{Cc}\p{Co}\p{Cs}\p{Zl}\p{Zp}]|(?![\u200C\u200D])\p{Cf}/gu;

/** True when `s` holds only Unicode scalar values (no lone surrogates, R17). */
export function isWellFormed(s) {
  return typeof s.isWellFormed === 'function' ? s.isWellFormed() : !LONE_SURROGATE.test(s);
}

/** The first string (key or value) in a parsed value that is not valid Unicode, else null. */
export function badString(v) {
  const stack = [v];
  while (stack.length) {
    const x = stack.pop();
    if (typeof x === 'string') {
      if (!isWellFormed(x)) return x;
    } else if (Array.isArray(x)) {
      for (const y of x) stack.push(y);
    } else if (x !== null && typeof x === 'object') {
      for (const [k, y] of Object.entries(x)) {
        if (!isWellFormed(k)) return k;
        stack.push(y);
      }
    }
  }
  return null;
}

/** Why `s` is not an acceptable display name (R18), or null. */
export function nameProblem(s) {
  if (!isWellFormed(s)) return 'a name must be valid Unicode';
  const m = s.match(NAME_FORBIDDEN);
  return m ? `character U+${m[0].codePointAt(0).toString(16).toUpperCase().padStart(4, '0')} is not allowed in a name` : null;
}

/** A display name with forbidden characters removed and whitespace collapsed (R18). */
export function cleanName(s, limit = 100) {
  const t = String(s ?? '').toWellFormed ? String(s ?? '').toWellFormed() : String(s ?? '').replace(new RegExp(LONE_SURROGATE, 'g'), '\uFFFD');
  return t.replace(NAME_FORBIDDEN_ALL, '').split(/\s+/).filter(Boolean).join(' ').slice(0, limit);
}

const ROLE_RANK = Object.freeze(Object.fromEntries(ROLES.map((r, i) => [r, i])));

/** Raised when the server (or a caller) hands us data that breaks the protocol. */
export class ProtocolError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** True when `role` may send ops of `kind`. */
export function canSend(role, kind) {
  const need = OP_ROLES[kind];
  if (need === undefined) return false;
  return (ROLE_RANK[role] ?? -1) >= ROLE_RANK[need];
}

/** True when `role` ranks at least `min`. */
export function roleAtLeast(role, min) {
  return (ROLE_RANK[role] ?? -1) >= ROLE_RANK[min];
}

/** A fresh random id with a readable prefix ("op-…", "a-…"). */
export function newId(prefix) {
  const c = globalThis.crypto;
  const raw = c && typeof c.randomUUID === 'function'
    ? c.randomUUID().replace(/-/g, '')
    : Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  return `${prefix}-${raw.slice(0, 20)}`;
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Throws ProtocolError unless `v` is an array of `n` finite numbers. */
export function assertVec(v, n, what) {
  if (!Array.isArray(v) || v.length !== n || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new ProtocolError(`${what} must be ${n} finite numbers`);
  }
  return v;
}

/** Round to 6 decimals to keep frames small (sub-micrometre in model metres). */
export function roundVec(v) {
  return Array.from(v, (x) => Math.round(x * 1e6) / 1e6);
}

/** Parse one text frame from the server. Throws ProtocolError on anything malformed. */
export function decode(text) {
  if (typeof text !== 'string') throw new ProtocolError('frame is not text');
  let msg;
  try {
    msg = JSON.parse(text);
  } catch {
    throw new ProtocolError('frame is not JSON');
  }
  if (!isObject(msg)) throw new ProtocolError('frame is not a JSON object');
  if (SURROGATE_HINT.test(text) && badString(msg) !== null) {
    throw new ProtocolError('frame holds a string that is not valid Unicode');
  }
  if (typeof msg.type !== 'string') throw new ProtocolError('message has no type');
  if (!SERVER_TYPES.includes(msg.type)) throw new ProtocolError(`unknown message type ${msg.type}`);
  switch (msg.type) {
    case 'welcome':
      if (msg.v !== PROTOCOL_VERSION) throw new ProtocolError(`unsupported protocol version ${msg.v}`);
      if (!Number.isInteger(msg.seq)) throw new ProtocolError('welcome.seq must be an integer');
      if (!isObject(msg.user) || !isObject(msg.room)) throw new ProtocolError('welcome needs user and room');
      if (msg.snapshot !== null && msg.snapshot !== undefined && !isObject(msg.snapshot)) {
        throw new ProtocolError('welcome.snapshot must be an object or null');
      }
      if (msg.ops !== null && msg.ops !== undefined && !Array.isArray(msg.ops)) {
        throw new ProtocolError('welcome.ops must be a list or null');
      }
      break;
    case 'ack':
      if (typeof msg.op_id !== 'string' || !Number.isInteger(msg.seq)) throw new ProtocolError('bad ack');
      break;
    case 'reject':
      if (typeof msg.op_id !== 'string') throw new ProtocolError('bad reject');
      break;
    case 'commit':
      if (!Number.isInteger(msg.seq) || typeof msg.kind !== 'string') throw new ProtocolError('bad commit');
      break;
    case 'presence':
      if (!isObject(msg.entry) || typeof msg.entry.session_id !== 'string') throw new ProtocolError('bad presence');
      break;
    case 'poses':
      if (!isObject(msg.poses)) throw new ProtocolError('bad poses');
      break;
    case 'welcome_part':
      if (!Number.isInteger(msg.part) || !Number.isInteger(msg.of)) throw new ProtocolError('bad welcome_part');
      if (msg.ops !== undefined && !Array.isArray(msg.ops)) throw new ProtocolError('welcome_part.ops must be a list');
      for (const k of ['nodes', 'annotations', 'measurements', 'sections', 'markups', 'views', 'comments']) {
        if (msg[k] !== undefined && !isObject(msg[k])) throw new ProtocolError(`welcome_part.${k} must be an object`);
      }
      break;
    default:
      break;
  }
  return msg;
}

/** Serialise one client message. Throws ProtocolError for non-finite numbers and for strings
 * (keys included) that are not valid Unicode (R17). */
export function encode(msg) {
  if (!isObject(msg) || typeof msg.type !== 'string') throw new ProtocolError('message needs a type');
  return JSON.stringify(msg, (k, v) => {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new ProtocolError('non-finite number');
    if (!isWellFormed(k) || (typeof v === 'string' && !isWellFormed(v))) {
      throw new ProtocolError('string is not valid Unicode');
    }
    return v;
  });
}

export function hello({ clientId, lastSeq, name, color, device }) {
  if (!DEVICES.includes(device)) throw new ProtocolError(`unknown device ${device}`);
  // R18: the server shows the membership's name anyway; never send one it would refuse
  return {
    type: 'hello', v: PROTOCOL_VERSION, client_id: clientId,
    last_seq: Number.isInteger(lastSeq) ? lastSeq : null, name: cleanName(name), color, device,
  };
}

/** Build a durable op message with a fresh op id. */
export function op(kind, fields) {
  if (!(kind in OP_ROLES)) throw new ProtocolError(`unknown op kind ${kind}`);
  return { type: 'op', op_id: newId('op'), kind, ...fields };
}

function sidePose(p) {
  if (!p) return null;
  return { p: roundVec(assertVec(p.p, 3, 'pose.p')), q: roundVec(assertVec(p.q, 4, 'pose.q')) };
}

/** Build a pose message (R12). Vectors are plain arrays in model space. */
export function pose({ head, left = null, right = null, laser = null }) {
  let l = null;
  if (laser) {
    l = {
      origin: roundVec(assertVec(laser.origin, 3, 'laser.origin')),
      dir: roundVec(assertVec(laser.dir, 3, 'laser.dir')),
      hit: laser.hit ? roundVec(assertVec(laser.hit, 3, 'laser.hit')) : null,
      node_id: laser.node_id ?? null,
    };
  }
  return { type: 'pose', head: sidePose(head), left: sidePose(left), right: sidePose(right), laser: l };
}

export function ping(t) {
  return { type: 'ping', t };
}

export function cmd(name, extra = {}) {
  return { type: 'cmd', name, ...extra };
}

/** Viewpoint record as stored with annotations. */
export function viewpoint({ position, target, up, fov }) {
  return {
    position: roundVec(assertVec(position, 3, 'viewpoint.position')),
    target: roundVec(assertVec(target, 3, 'viewpoint.target')),
    up: roundVec(assertVec(up, 3, 'viewpoint.up')),
    fov: Number.isFinite(fov) ? fov : VIEWPOINT_DEFAULTS.fov,
  };
}

/** A new annotation record for annotation.create. */
export function newAnnotation({
  position, normal, nodeId = null, elementId = null, view = null, title = '', text = '',
  status = 'open', priority = 'normal', assignee = null, labels = [],
}) {
  if (!STATUSES.includes(status)) throw new ProtocolError(`bad status ${status}`);
  if (!PRIORITIES.includes(priority)) throw new ProtocolError(`bad priority ${priority}`);
  return {
    id: newId('a'),
    position: roundVec(assertVec(position, 3, 'position')),
    normal: roundVec(assertVec(normal, 3, 'normal')),
    node_id: nodeId, element_id: elementId, viewpoint: view,
    title, text, status, priority, assignee, labels,
  };
}
