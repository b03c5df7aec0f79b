// Remote pose interpolation (R12). Poses arrive once per server tick; we render each remote
// participant slightly in the past and interpolate between the two samples around that time,
// so motion looks smooth at 72-120 fps even though updates come at 20-30 Hz.

export function lerp3(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** Normalised spherical interpolation of quaternions [x, y, z, w], shortest path. */
export function slerp(a, b, t) {
  let [bx, by, bz, bw] = b;
  let cos = a[0] * bx + a[1] * by + a[2] * bz + a[3] * bw;
  if (cos < 0) {
    cos = -cos; bx = -bx; by = -by; bz = -bz; bw = -bw;
  }
  let k0;
  let k1;
  if (cos > 0.9995) {
    k0 = 1 - t;
    k1 = t;
  } else {
    const th = Math.acos(cos);
    const s = Math.sin(th);
    k0 = Math.sin((1 - t) * th) / s;
    k1 = Math.sin(t * th) / s;
  }
  const q = [a[0] * k0 + bx * k1, a[1] * k0 + by * k1, a[2] * k0 + bz * k1, a[3] * k0 + bw * k1];
  const n = Math.hypot(...q) || 1;
  return q.map((x) => x / n);
}

function lerpSide(a, b, t) {
  if (!a || !b) return (t < 0.5 ? a : b) ?? null;
  return { p: lerp3(a.p, b.p, t), q: slerp(a.q, b.q, t) };
}

function lerpLaser(a, b, t) {
  if (!a || !b) return (t < 0.5 ? a : b) ?? null;
  const hit = a.hit && b.hit ? lerp3(a.hit, b.hit, t) : (t < 0.5 ? a.hit : b.hit);
  return {
    origin: lerp3(a.origin, b.origin, t),
    dir: lerp3(a.dir, b.dir, t),
    hit: hit ?? null,
    node_id: t < 0.5 ? a.node_id : b.node_id,
  };
}

/** Interpolate two full poses. */
export function lerpPose(a, b, t) {
  return {
    head: lerpSide(a.head, b.head, t),
    left: lerpSide(a.left, b.left, t),
    right: lerpSide(a.right, b.right, t),
    laser: lerpLaser(a.laser, b.laser, t),
  };
}

/** Time-ordered samples of one participant's pose, in server time. */
export class PoseBuffer {
  constructor({ capacity = 16 } = {}) {
    this.samples = [];
    this.capacity = capacity;
  }

  push(t, pose) {
    const s = this.samples;
    if (s.length && t <= s[s.length - 1].t) {
      if (t === s[s.length - 1].t) s[s.length - 1] = { t, pose };
      return;
    }
    s.push({ t, pose });
    if (s.length > this.capacity) s.shift();
  }

  get latest() {
    return this.samples.length ? this.samples[this.samples.length - 1].pose : null;
  }

  /** Pose at server time `t`: interpolated inside the buffer, clamped at its ends. */
  sample(t) {
    const s = this.samples;
    if (!s.length) return null;
    if (t <= s[0].t) return s[0].pose;
    const last = s[s.length - 1];
    if (t >= last.t) return last.pose;
    let i = s.length - 2;
    while (i > 0 && s[i].t > t) i -= 1;
    const a = s[i];
    const b = s[i + 1];
    return lerpPose(a.pose, b.pose, (t - a.t) / (b.t - a.t));
  }
}

/**
 * All remote participants' buffers plus the clock mapping local time to server time.
 * The offset tracks the least-delayed packet seen recently (it decays slowly so a clock
 * change or route change is picked up).
 */
export class PoseInterpolator {
  constructor({ tickHz = 30, delayTicks = 2 } = {}) {
    this.buffers = new Map();
    this.offset = null;
    this.setTickHz(tickHz, delayTicks);
  }

  setTickHz(tickHz, delayTicks = 2) {
    this.delay = delayTicks / Math.max(1, tickHz);
  }

  /** Feed one `poses` message received at local time `localT` (seconds). */
  receive(msg, localT) {
    const t = typeof msg.t === 'number' ? msg.t : localT;
    const off = t - localT;
    if (this.offset === null || off > this.offset) this.offset = off;
    else this.offset -= Math.min(0.001, this.offset - off);
    for (const [sid, p] of Object.entries(msg.poses ?? {})) {
      if (!p || !p.head) continue;
      let b = this.buffers.get(sid);
      if (!b) {
        b = new PoseBuffer();
        this.buffers.set(sid, b);
      }
      b.push(t, p);
    }
  }

  remove(sessionId) {
    this.buffers.delete(sessionId);
  }

  /** Interpolated poses for render time: Map session_id -> pose. */
  sampleAll(localT) {
    const out = new Map();
    const t = localT + (this.offset ?? 0) - this.delay;
    for (const [sid, b] of this.buffers) {
      const p = b.sample(t);
      if (p) out.set(sid, p);
    }
    return out;
  }
}
