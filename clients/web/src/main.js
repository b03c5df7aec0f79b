// Entry point: read the room and credentials from the URL, optionally install the WebXR
// emulator (?xr=emulate, tests), then start the review session.
import { decodeView } from './tools/viewlink.js';
import { App } from './app.js';
import { resolveToken, scrubUrl, exchangeInvite, listRooms, rememberToken } from './auth.js';
import { newId } from './state/codec.js';
import { el, mount } from './ui/dom.js';

const PALETTE = ['#e34a33', '#3d8bfd', '#2fbf71', '#f0b429', '#8f5cff', '#ff6b9a', '#19b5c9', '#ff8c42'];

function stored(storage, key, make) {
  let v = storage.getItem(key);
  if (!v) {
    v = make();
    storage.setItem(key, v);
  }
  return v;
}

function identity(params) {
  const name = (params.get('name') ?? localStorage.getItem('vrcollab.name') ?? '').trim() || `Guest ${Math.floor(Math.random() * 900 + 100)}`;
  localStorage.setItem('vrcollab.name', name);
  const c = params.get('color');
  const color = c && /^#[0-9a-fA-F]{6}$/.test(c) ? c : stored(localStorage, 'vrcollab.color', () => PALETTE[Math.floor(Math.random() * PALETTE.length)]);
  const phone = /android|iphone|ipad|mobile/i.test(navigator.userAgent) && !/quest/i.test(navigator.userAgent);
  return { name: name.slice(0, 60), color, device: phone ? 'phone' : 'desktop' };
}

/** An invite opened at / (the server's invite URL): redeem it, then open the project's room. */
async function inviteAtRoot(invite, params) {
  const name = identity(params).name;
  const { token, projectId } = await exchangeInvite(invite, { name });
  scrubUrl();
  const rooms = projectId ? await listRooms(projectId, token) : [];
  for (const r of rooms) rememberToken(r.room_id, token);
  if (rooms.length === 1) {
    location.replace(`/r/${encodeURIComponent(rooms[0].room_id)}`);
    return;
  }
  const box = document.getElementById('landing');
  mount(box, el('div', { class: 'card' },
    el('h2', {}, 'Choose a room'),
    rooms.length ? rooms.map((r) => el('p', {}, el('a', { href: `/r/${encodeURIComponent(r.room_id)}`, class: 'btn' }, r.name || r.room_id)))
      : el('p', {}, 'This project has no rooms yet.')));
  box.hidden = false;
}

function landing(message) {
  const box = document.getElementById('landing');
  const input = el('input', { placeholder: 'Paste a room link', 'aria-label': 'Room link' });
  const go = () => {
    try {
      const u = new URL(input.value.trim(), location.href);
      if (u.origin === location.origin && u.pathname.startsWith('/r/')) location.href = u.href;
    } catch {
      input.value = '';
    }
  };
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
  mount(box, el('div', { class: 'card' },
    el('h2', {}, 'Join a review'),
    el('p', {}, message),
    input,
    el('button', { class: 'btn primary', onclick: go }, 'Open room')));
  box.hidden = false;
}

/** `#annotation=<id>` (links from the project's issues list): select it once it has arrived. */
function openAnnotationFromHash(app) {
  const m = location.hash.match(/^#annotation=([A-Za-z0-9_.:-]{1,128})$/);
  if (!m) return;
  const tryOpen = () => {
    if (!app.conn.mirror.view.annotations?.[m[1]] || !app.model.bounds) {
      setTimeout(tryOpen, 200);
      return;
    }
    app.issues.panel.select(m[1]);
  };
  tryOpen();
}

/** Header: the room's name with its model and version, and a link back to the project. */
async function roomHeader(roomId, token) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const res = await fetch(`/api/rooms/${encodeURIComponent(roomId)}`, { headers, credentials: 'same-origin' }).catch(() => null);
  if (!res?.ok) return;
  const room = await res.json();
  const model = room.model?.name ? ` · ${room.model.name}${room.model.version ? ` v${room.model.version}` : ''}` : '';
  const title = document.getElementById('room-title');
  mount(title, token ? room.name : el('a', { href: `/projects/${encodeURIComponent(room.project_id)}` }, room.name), model);
  title.dataset.room = room.name;
}

async function installEmulator() {
  const { XRDevice, metaQuest3 } = await import('iwer');
  const device = new XRDevice(metaQuest3);
  // Chromium ships a native navigator.xr (with no headset); the emulator must replace it.
  device.installRuntime({ forceInstall: true });
  return device;
}

async function boot() {
  const params = new URLSearchParams(location.search);
  const hooks = { ready: false };
  window.__vrcollab = hooks;
  if (params.get('xr') === 'emulate') hooks.xrDevice = await installEmulator();
  const m = location.pathname.match(/^\/r\/([A-Za-z0-9_.-]{1,128})\/?$/);
  if (!m && params.get('invite')) {
    try {
      await inviteAtRoot(params.get('invite'), params);
    } catch (err) {
      landing(String(err.message ?? err));
    }
    return;
  }
  if (!m) {
    landing('Open the room link you were sent. It looks like /r/<room>?invite=…');
    return;
  }
  const roomId = m[1];
  let token;
  try {
    token = await resolveToken(roomId, params, identity(params).name);
  } catch (err) {
    landing(String(err.message ?? err));
    return;
  }
  scrubUrl();
  // No token in the URL or this tab: a signed-in browser (session cookie) joins as itself.
  const session = token ? null : await fetch('/api/session', { credentials: 'same-origin' }).then((r) => (r.ok ? r.json() : null)).catch(() => null);
  if (!token && !session?.signed_in) {
    landing('This room needs an invite link, or sign in first (/welcome).');
    return;
  }
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const tokenQuery = token ? `?token=${encodeURIComponent(token)}` : '';
  const clientId = stored(sessionStorage, 'vrcollab.client_id', () => newId('c'));
  const app = new App({
    roomId,
    wsUrl: `${proto}://${location.host}/ws/rooms/${encodeURIComponent(roomId)}${tokenQuery}`,
    authHeader: token ? `Bearer ${token}` : null,
    identity: session?.signed_in ? { ...identity(params), name: session.user.name } : identity(params),
    clientId,
    storage: sessionStorage,
    initialView: decodeView(params.get('view')),
    manifestUrl: params.get('manifest'),
    deviceClass: params.get('lod'),
    xrEmulate: params.get('xr') === 'emulate',
    quality: params.get('quality') === 'low' ? 'low' : 'high',
    batching: params.get('batch') !== 'off',
  });
  app.start();
  roomHeader(roomId, token);
  openAnnotationFromHash(app);
  Object.assign(hooks, {
    ready: true,
    info: () => app.info(),
    enterXR: (mode) => app.enterXR(mode),
    exitXR: () => app.xr.exit(),
    /** The room's voice (voice/voice.js): join(), setMuted(), stats(), describe(). */
    voice: app.voice,
    /** Put our camera at a world point looking at another (tests of spatial audio). */
    placeCamera: (p, target) => {
      app.viewer.camera.position.set(p[0], p[1], p[2]);
      app.viewer.camera.lookAt(target[0], target[1], target[2]);
      app.viewer.controls?.target?.set(target[0], target[1], target[2]);
      app.viewer.invalidate();
    },
    /** Our pose as it goes to the server this tick (model space). */
    pose: () => app.currentPose(),
    /** Screen position of the transform gizmo (its pivot), or null when detached. */
    gizmo: () => {
      const p = app.gizmo.pivotWorld();
      return p ? hooks.project(p.toArray()) : null;
    },
    /** What the ray through the centre of the view meets first: 'avatar', 'model' or null. */
    centerHit: () => app.centerHit(),
    /** Select a part by node name (null clears), as a click would. */
    select: (node) => app.select(node ?? null),
    /** The triangle under a page point (world and model corners), or null. */
    faceAt: (xy) => app.faceAt(xy),
    /** A part's local matrix on the displayed level (16 numbers) or null. */
    partMatrix: (name) => app.model.partMatrix(name),
    batchState: (name) => app.model.batchState(name),
    /** The annotation selected in the issues panel (or null). */
    selectedAnnotation: () => app.issues.panel.selected ?? null,
    /** The hover pick under the pointer: {part, point} or null. */
    hover: () => {
      const h = app.pointer.hoverHit;
      return h ? { part: h.part, point: h.point.toArray() } : null;
    },
    /** Precise pick at page coordinates: {part, point} or null. */
    pickAt: (x, y) => {
      const hit = app.model.pickPrecise(app.viewer.ndc({ clientX: x, clientY: y }));
      return hit ? { part: hit.part, point: hit.point.toArray() } : null;
    },
    /** A tiled model's element row (element table) by node id, or null. */
    element: (name) => app.model.tiled?.elements?.row(app.model.tiled.indexOf(name)) ?? null,
    /** Draw calls of a freshly drawn frame (renderer.info.render.calls). */
    drawCalls: () => new Promise((resolve) => {
      const n = app.viewer.rendered;
      app.viewer.invalidate();
      const poll = () => {
        if (app.viewer.rendered > n) resolve(app.viewer.stats.calls);
        else requestAnimationFrame(poll);
      };
      requestAnimationFrame(poll);
    }),
    /** Screen position (CSS px, page coords) of a world point; for tests that click on things. */
    project: (p) => {
      const v = app.viewer.camera.position.clone().set(p[0], p[1], p[2]).project(app.viewer.camera);
      const r = app.viewer.renderer.domElement.getBoundingClientRect();
      return [r.left + ((v.x + 1) / 2) * r.width, r.top + ((1 - v.y) / 2) * r.height];
    },
  });
}

boot().catch((err) => {
  console.error(err);
  landing(`Something went wrong: ${err.message ?? err}`);
});
