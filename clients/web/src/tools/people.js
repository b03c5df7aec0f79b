// What keeps people out of each other's way: distinct start framings, the follow camera just
// behind the followed head, why a tool is locked for a role, and members' names (for authors
// who are offline and for assignee pickers).
import * as THREE from 'three';
import { canSend, roleAtLeast } from '../state/codec.js';

/** Golden angle: successive joiners spread evenly around the model without coordination. */
const GOLDEN = Math.PI * (3 - Math.sqrt(5));

/** Turn about the vertical of the k-th person's start framing (0 for the first). */
export function spawnAzimuth(index) {
  return ((index % 16) * GOLDEN) % (2 * Math.PI);
}

/** Distance behind (and height above) the followed head, in avatar scales. */
export const FOLLOW_BACK = 1.6;
export const FOLLOW_UP = 0.25;

/** Camera position and orbit target for following a head at `at` (world) turned by `q`. */
export function followPose(at, q, scale = 1) {
  const fwd = new THREE.Vector3(0, 0, -1).applyQuaternion(q);
  const up = new THREE.Vector3(0, 1, 0).applyQuaternion(q);
  const position = at.clone().addScaledVector(fwd, -FOLLOW_BACK * scale).addScaledVector(up, FOLLOW_UP * scale);
  const target = at.clone().addScaledVector(fwd, Math.max(3, 3 * scale));
  return { position, target };
}

/** Tool id -> null (allowed) or the sentence saying why not, for a role. */
export function lockReasons(role, { presenting = false, online = true } = {}) {
  const you = online ? `you are ${role}` : 'not connected yet';
  const need = (kind, what, min) => (online && canSend(role, kind) ? null : `${what} needs the ${min} role (${you}).`);
  const ownView = null; // hide, isolate, show all, section: everyone's own view
  const leads = online && (roleAtLeast(role, 'editor') || presenting);
  return {
    annotate: need('annotation.create', 'Adding issues', 'reviewer'),
    measure: need('measurement.create', 'Measuring', 'reviewer'),
    markup: need('markup.create', 'Drawing markup', 'reviewer'),
    move: need('node.set', 'Moving parts', 'editor'),
    rotate: need('node.set', 'Rotating parts', 'editor'),
    hide: ownView,
    isolate: ownView,
    showall: ownView,
    section: ownView,
    present: need('presenter.set', 'Presenting', 'reviewer'),
    gather: leads ? null : `Gathering everyone needs the editor role or presenting (${you}).`,
    share: leads ? null : canSend(role, 'presenter.set')
      ? 'Showing your view to everyone needs the editor role, or press Present first.'
      : `Showing your view to everyone needs the editor role or presenting (${you}).`,
  };
}

/** The room's project members [{user_id, name, role}] (GET /api/rooms/{id}/members), or null. */
export async function fetchMembers(roomId, authHeader) {
  try {
    const res = await fetch(`/api/rooms/${encodeURIComponent(roomId)}/members`, { headers: { Authorization: authHeader } });
    if (!res.ok) return null;
    const body = await res.json();
    return Array.isArray(body?.members)
      ? body.members.filter((m) => m && typeof m.user_id === 'string' && typeof m.name === 'string')
      : null;
  } catch {
    return null;
  }
}
