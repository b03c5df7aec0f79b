// Saved view as a link: camera, section (plane and box), hidden and isolated parts and colour
// overrides of one's own view, packed into `?view=` of the room URL (base64url JSON); opening
// the link shows the room at that view.
// The link carries no credentials: whoever opens it still needs their own invite or session.
import { validBox } from './viewstate.js';

/** Longest `view` parameter accepted (about 5000 short node ids). */
export const MAX_VIEW_PARAM = 200_000;

function toBase64Url(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(s) {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** The `view` parameter for a view (OwnView.toWire(camera) form, plus an optional name). */
export function encodeView(view) {
  return toBase64Url(JSON.stringify({ v: 1, ...view }));
}

const vec3 = (v) => Array.isArray(v) && v.length === 3 && v.every(Number.isFinite);

/** The view in a `view` parameter, validated, or null. */
export function decodeView(param) {
  if (typeof param !== 'string' || !param || param.length > MAX_VIEW_PARAM) return null;
  let o;
  try {
    o = JSON.parse(fromBase64Url(param));
  } catch {
    return null;
  }
  if (!o || typeof o !== 'object' || o.v !== 1) return null;
  const ids = (x) => (Array.isArray(x) ? x.filter((s) => typeof s === 'string' && s.length > 0 && s.length <= 200).slice(0, 5000) : null);
  const cam = o.camera;
  const s = o.section;
  const box = validBox(o.box);
  const colors = o.colors && typeof o.colors === 'object' && !Array.isArray(o.colors)
    ? Object.entries(o.colors).filter(([k, c]) => k.length > 0 && k.length <= 200 && /^#[0-9a-f]{6}$/i.test(String(c))).slice(0, 5000)
    : [];
  return {
    name: typeof o.name === 'string' ? o.name.slice(0, 200) : null,
    hidden: ids(o.hidden) ?? [],
    isolated: ids(o.isolated),
    section: s && vec3(s.normal) && Number.isFinite(s.offset) ? { normal: s.normal, offset: s.offset, enabled: s.enabled !== false } : null,
    camera: cam && vec3(cam.position) && vec3(cam.target) ? { position: cam.position, target: cam.target, up: vec3(cam.up) ? cam.up : [0, 1, 0], fov: Number.isFinite(cam.fov) ? cam.fov : 60 } : null,
    // Only when the view has them (section box: six planes; colour by property).
    ...(box ? { box } : {}),
    ...(colors.length ? { colors: Object.fromEntries(colors) } : {}),
  };
}

/** The room link that opens at `view`. */
export function viewLink(roomId, view, origin = location.origin) {
  return `${origin}/r/${encodeURIComponent(roomId)}?view=${encodeView(view)}`;
}
