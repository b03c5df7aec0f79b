// Meeting log chunks (docs/meetings.md "Log format"): zlib JSON with delta-encoded integer pose
// vectors. Pure apart from `inflate`, which uses the platform's DecompressionStream.

export const POS_SCALE = 1000;
export const UNIT_SCALE = 10000;
export const WIDTH = 31;
const F_LEFT = 1;
const F_RIGHT = 2;
const F_LASER = 4;
const F_HIT = 8;

/** zlib bytes -> parsed JSON (browsers and Node 18+). */
export async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  return JSON.parse(await new Response(stream).text());
}

/** A parsed chunk body -> {t0, t1, seq, state, presence, tracks: {sid: [{t, v}]}, events}. */
export function decodeChunk(body) {
  if (body.v !== 1) throw new Error(`chunk version ${body.v} is not 1`);
  const tracks = {};
  for (const [sid, rows] of Object.entries(body.tracks)) {
    let t = body.t0;
    let prev = null;
    tracks[sid] = rows.map((row) => {
      if (row.length !== WIDTH + 1) throw new Error('pose row of the wrong width');
      t += row[0] / 1000;
      const v = prev ? row.slice(1).map((d, i) => prev[i] + d) : row.slice(1);
      prev = v;
      return { t, v };
    });
  }
  const events = body.events.map(([ms, kind, data]) => ({ t: body.t0 + ms / 1000, kind, data }));
  return { t0: body.t0, t1: body.t1, seq: body.seq, state: body.state, presence: body.presence, tracks, events };
}

const part = (v, at) => ({
  p: v.slice(at, at + 3).map((x) => x / POS_SCALE),
  q: v.slice(at + 3, at + 7).map((x) => x / UNIT_SCALE),
});

/** Integer vector -> pose object (protocol R12 shape, model space). */
export function dequantize(v) {
  const f = v[0];
  return {
    head: part(v, 1),
    left: f & F_LEFT ? part(v, 8) : null,
    right: f & F_RIGHT ? part(v, 15) : null,
    laser: f & F_LASER ? {
      origin: v.slice(22, 25).map((x) => x / POS_SCALE),
      dir: v.slice(25, 28).map((x) => x / UNIT_SCALE),
      hit: f & F_HIT ? v.slice(28, 31).map((x) => x / POS_SCALE) : null,
      node_id: null,
    } : null,
  };
}

/** Index of the last element of sorted `arr` with key(x) <= t, or -1. */
export function lastAtOrBefore(arr, t, key = (x) => x.t) {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (key(arr[mid]) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
