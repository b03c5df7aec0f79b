// The room at any time of a recorded meeting (the browser twin of vrcollab/meetings/replay.py).
// Seeking uses the nearest state keyframe and the chunk holding `t`; playing forward applies
// only the commits since the previous frame. Both give the same state (tests check it).
import { applyOp, fromSnapshot } from '../state/room.js';
import { decodeChunk, dequantize, inflate, lastAtOrBefore } from './log.js';
import { lerpPose } from '../state/interp.js';

/** Samples further apart than this many pose periods are held, not interpolated (a jump). */
const LERP_GAP_S = 0.45;

export class ReplayPlayer {
  /** `info`: the body of GET /api/meetings/{id}/replay; `fetchChunk(i)` -> ArrayBuffer. */
  constructor(info, fetchChunk) {
    this.info = info;
    this.chunks = info.chunks;
    this.commits = [...info.commits].sort((a, b) => a.seq - b.seq);
    this.fetchChunk = fetchChunk;
    this.cache = new Map();
    this.t0 = this.chunks.length ? this.chunks[0].t0 : info.meeting.started;
    this.t1 = this.chunks.length ? this.chunks[this.chunks.length - 1].t1 : (info.meeting.ended ?? this.t0);
    this.cur = null; // {t, state, seq, next}: the last frame's state, for playing forward
  }

  async chunk(i) {
    let p = this.cache.get(i);
    if (!p) {
      p = (async () => {
        const raw = await this.fetchChunk(i);
        return decodeChunk(await inflate(raw));
      })();
      this.cache.set(i, p);
      if (this.cache.size > 16) this.cache.delete(this.cache.keys().next().value);
    }
    return p;
  }

  chunkIndexAt(t) {
    return Math.max(0, lastAtOrBefore(this.chunks, t, (c) => c.t0));
  }

  /** Durable state at t from the nearest keyframe (a seek). */
  async stateAt(t) {
    let i = this.chunkIndexAt(t);
    while (i > 0 && !this.chunks[i].has_state) i -= 1;
    const key = await this.chunk(i);
    const state = fromSnapshot(key.state);
    let seq = key.seq;
    let next = this.commits.findIndex((c) => c.seq > key.seq);
    if (next < 0) next = this.commits.length;
    while (next < this.commits.length && this.commits[next].t <= t) {
      applyOp(state, this.commits[next]);
      seq = this.commits[next].seq;
      next += 1;
    }
    return { t, state, seq, next };
  }

  /** Durable state at t: forward from the previous frame when playing, else a seek. */
  async advance(t, { seek = false } = {}) {
    const cur = this.cur;
    if (!seek && cur && t >= cur.t) {
      while (cur.next < this.commits.length && this.commits[cur.next].t <= t) {
        applyOp(cur.state, this.commits[cur.next]);
        cur.seq = this.commits[cur.next].seq;
        cur.next += 1;
      }
      cur.t = t;
      return cur;
    }
    this.cur = await this.stateAt(t);
    return this.cur;
  }

  /** Presence and poses at t (poses interpolated between close samples). */
  async peopleAt(t) {
    const ch = await this.chunk(this.chunkIndexAt(t));
    const presence = new Map(ch.presence.map((e) => [e.session_id, e]));
    for (const e of ch.events) {
      if (e.t > t) break;
      if (e.kind === 'join') presence.set(e.data.session_id, e.data);
      else if (e.kind === 'leave') presence.delete(e.data);
    }
    const poses = new Map();
    for (const [sid, samples] of Object.entries(ch.tracks)) {
      if (!presence.has(sid)) continue;
      const j = lastAtOrBefore(samples, t);
      if (j < 0) continue;
      const a = samples[j];
      const b = samples[j + 1];
      let pose = dequantize(a.v);
      if (b && b.t - a.t <= LERP_GAP_S && b.t > a.t) pose = lerpPose(pose, dequantize(b.v), (t - a.t) / (b.t - a.t));
      poses.set(sid, pose);
    }
    return { presence, poses };
  }

  /** The timeline's markers: every issue created or changed, and comments, in time order. */
  markers() {
    const out = [];
    const titles = {};
    for (const c of this.commits) {
      if (c.kind === 'annotation.create') {
        titles[c.annotation.id] = c.annotation.title || '(untitled)';
        out.push({ t: c.t, seq: c.seq, id: c.annotation.id, what: 'created', title: titles[c.annotation.id] });
      } else if (c.kind === 'annotation.update') {
        const props = Object.keys(c.props ?? {}).filter((k) => k !== 'snapshot' && k !== 'anchor_state');
        if (!props.length) continue;
        const status = c.props.status;
        out.push({ t: c.t, seq: c.seq, id: c.id, what: status === 'resolved' || status === 'closed' ? 'resolved' : 'changed', title: titles[c.id] ?? c.id, props });
      } else if (c.kind === 'comment.add') {
        out.push({ t: c.t, seq: c.seq, id: c.annotation_id, what: /^\s*decision:/i.test(c.comment?.text ?? '') ? 'decision' : 'comment', title: titles[c.annotation_id] ?? c.annotation_id });
      }
    }
    return out;
  }
}
