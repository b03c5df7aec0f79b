// The replay page (/meetings/{id}/replay): the model at the meeting's version, avatars and
// laser pointers moving as recorded, pins and comments appearing when made; a timeline with
// play, pause, speed, seek and a marker per issue event. Read-only: it only reads REST routes
// (viewer role) and never opens the room's websocket.
import * as THREE from 'three';
import { Viewer } from '../viewer/viewer.js';
import { ModelView } from '../viewer/model.js';
import { Avatars } from '../viewer/avatars.js';
import { Pins } from '../viewer/pins.js';
import { STATUS_COLORS } from '../colors.js';
import { annotationList } from '../state/room.js';
import { el, mount } from '../ui/dom.js';
import { ReplayPlayer } from './player.js';
import { ReplayClock, SPEEDS } from './clock.js';

const params = new URLSearchParams(location.search);
const token = params.get('token');
const headers = token ? { Authorization: `Bearer ${token}` } : {};
const meetingId = decodeURIComponent(location.pathname.split('/')[2] ?? '');
const $ = (id) => document.getElementById(id);

async function get(path, as = 'json') {
  const res = await fetch(path, { headers, credentials: 'same-origin' });
  if (!res.ok) {
    let msg = `HTTP ${res.status}`;
    try { msg = (await res.json()).error?.message ?? msg; } catch { /* keep the status */ }
    throw new Error(msg);
  }
  return as === 'json' ? res.json() : res.arrayBuffer();
}

const clockText = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

class ReplayPage {
  constructor(info) {
    this.info = info;
    this.names = info.names ?? {};
    this.player = new ReplayPlayer(info, (i) => get(`/api/meetings/${encodeURIComponent(meetingId)}/chunks/${i}`, 'bytes'));
    this.clock = new ReplayClock(this.player.t0, this.player.t1);
    this.viewer = new Viewer($('rp-viewport'), { quality: params.get('quality') ?? 'high' });
    this.model = new ModelView(this.viewer, { authHeader: headers.Authorization ?? null });
    this.avatars = new Avatars(this.model.root);
    this.pins = new Pins(this.model.root);
    this.frame = null; // {t, seq, state, presence, poses}
    this.busy = null;
    this.frames = 0;
  }

  async start() {
    const m = this.info.meeting;
    $('rp-title').textContent = `${m.room_name ?? m.room_id} · ${new Date(m.started * 1000).toLocaleString()}`;
    this._controls();
    this._markers();
    const url = m.model?.manifest_url;
    if (url) {
      $('rp-status').textContent = 'loading the model…';
      try {
        await this.model.load(url, 'desktop');
        const box = new THREE.Box3().setFromObject(this.model.root);
        if (!box.isEmpty()) this.viewer.frameBox(box, true);
      } catch (err) {
        $('rp-status').textContent = `model: ${err.message}`;
      }
    }
    const startAt = Number(params.get('t'));
    await this.seek(this.player.t0 + (Number.isFinite(startAt) ? startAt : 0));
    $('rp-status').textContent = '';
    this.viewer.onFrame(() => this._tick());
  }

  _controls() {
    const play = $('rp-play');
    play.onclick = () => {
      if (this.clock.playing) this.clock.pause(); else this.clock.play();
      play.textContent = this.clock.playing ? 'Pause' : 'Play';
      this.viewer.invalidate(200);
    };
    const speed = $('rp-speed');
    mount(speed, SPEEDS.map((s) => el('option', { value: s, selected: s === 1 }, `${s}×`)));
    speed.onchange = () => this.clock.setSpeed(Number(speed.value));
    $('rp-seek').addEventListener('input', (e) => {
      const f = Number(e.target.value) / 1000;
      this.seek(this.player.t0 + f * (this.player.t1 - this.player.t0));
    });
  }

  _markers() {
    const span = Math.max(1e-6, this.player.t1 - this.player.t0);
    this.markerList = this.player.markers();
    mount($('rp-markers'), this.markerList.map((mk) => el('button', {
      class: 'rp-marker', type: 'button', title: `${mk.what}: ${mk.title}`,
      dataset: { what: mk.what, issue: mk.id, t: String(mk.t) },
      style: { left: `${((mk.t - this.player.t0) / span) * 100}%` },
      onclick: () => this.seek(mk.t),
    })));
  }

  /** Jump to meeting time t (keyframes: state snapshot + the chunk holding t). */
  async seek(t) {
    this.clock.seek(t);
    await this._render(this.clock.time(), { seek: true });
  }

  async _render(t, { seek = false } = {}) {
    const job = (async () => {
      const cur = await this.player.advance(t, { seek });
      const people = await this.player.peopleAt(t);
      return { t, seq: cur.seq, state: cur.state, ...people };
    })();
    this.busy = job;
    let f;
    try {
      f = await job;
    } catch (err) {
      this.error = String(err?.stack ?? err);
      $('rp-status').textContent = `replay: ${err.message ?? err}`;
      if (this.busy === job) this.busy = null;
      return;
    }
    if (this.busy !== job) return;  // a newer seek won
    this.busy = null;
    this._show(f);
  }

  _tick() {
    this.ticks = (this.ticks ?? 0) + 1;
    if (!this.clock.playing || this.busy) return;
    this.viewer.invalidate(100);
    this._render(this.clock.time());
  }

  _show(f) {
    this.frame = f;
    this.frames += 1;
    const list = annotationList(f.state);
    this.pins.sync(list, params.get('issue'));
    this.model.setNodeState(f.state.nodes);
    for (const [sid, e] of f.presence) this.avatars.upsert(e);
    for (const sid of [...this.avatars.items.keys()]) if (!f.presence.has(sid)) this.avatars.remove(sid);
    this.avatars.update(f.poses, this.viewer.camera);
    const span = this.player.t1 - this.player.t0;
    $('rp-time').textContent = `${clockText(f.t - this.player.t0)} / ${clockText(span)}`;
    $('rp-seek').value = String(Math.round(((f.t - this.player.t0) / Math.max(1e-6, span)) * 1000));
    mount($('rp-issues'), list.length ? list.map((a) => el('div', { class: 'rp-issue', dataset: { issue: a.id } },
      el('b', {}, a.title || '(untitled)'), ' ',
      el('span', { class: 'st', style: { color: STATUS_COLORS[a.status] ?? '#ccc' } }, a.status),
      a.assignee ? el('div', { class: 'muted' }, `assignee: ${this.names[a.assignee] ?? a.assignee}`) : null,
      a.comments.length ? el('ul', {}, a.comments.map((c) => el('li', { class: /^\s*decision:/i.test(c.text) ? 'decision' : '' },
        el('b', {}, this.names[c.author] ?? c.author ?? ''), ': ', c.text))) : null))
      : el('p', { class: 'muted' }, 'No issues yet.'));
    mount($('rp-people'), [...f.presence.values()].map((e) => el('li', { dataset: { session: e.session_id } },
      el('span', { style: { color: e.color } }, '●'), ' ', e.name)));
    this.viewer.invalidate(100);
  }
}

/** Test hook: the replay's state, and a seek that resolves once the frame is on screen. */
function hook(page) {
  return {
    ready: true,
    t0: page.player.t0,
    t1: page.player.t1,
    markers: () => page.markerList,
    time: () => page.frame?.t ?? null,
    seq: () => page.frame?.seq ?? null,
    state: () => page.frame && JSON.parse(JSON.stringify(page.frame.state)),
    pins: () => [...page.pins.items.keys()],
    avatars: () => page.avatars.describe(),
    poses: () => page.frame && Object.fromEntries(page.frame.poses),
    seek: async (t) => { await page.seek(t); return page.frame.seq; },
    // play-through without the clock: forward from the last frame, commit by commit
    advanceTo: async (t) => { await page._render(t); return page.frame.seq; },
    play: (speed = 1) => { page.clock.setSpeed(speed); page.clock.play(); },
    pause: () => page.clock.pause(),
    playing: () => page.clock.playing,
    error: () => page.error ?? null,
    debug: () => ({ busy: Boolean(page.busy), frames: page.frames, ticks: page.ticks ?? 0 }),
  };
}

(async () => {
  try {
    const info = await get(`/api/meetings/${encodeURIComponent(meetingId)}/replay`);
    const page = new ReplayPage(info);
    await page.start();
    window.__replay = hook(page);
  } catch (err) {
    $('rp-status').textContent = `Cannot replay: ${err.message}`;
    window.__replay = { ready: false, error: String(err.message ?? err) };
  }
  document.body.dataset.ready = '1';
})();
