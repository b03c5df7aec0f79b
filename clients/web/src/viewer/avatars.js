// Remote participants: head, hands, name label, laser ray and hit point, driven by the
// interpolated poses (state/interp.js). An avatar never blinds you: its head fades out as it
// comes close to your camera and is hidden inside NEAR_HIDE; the person you follow is hidden
// (you see what they see, from just behind them).
import * as THREE from 'three';
import { textSprite, disposeSprite } from './labels.js';

const headGeo = new THREE.BoxGeometry(0.2, 0.24, 0.22);
const visorGeo = new THREE.BoxGeometry(0.18, 0.07, 0.02);
const handGeo = new THREE.BoxGeometry(0.06, 0.04, 0.12);
const hitGeo = new THREE.SphereGeometry(1, 16, 12);
/** Within NEAR_HIDE x avatar scale of the camera a head is hidden; it fades in up to NEAR_FADE. */
export const NEAR_HIDE = 1.2;
export const NEAR_FADE = 2.5;

export class Avatars {
  constructor(scene) {
    this.group = new THREE.Group();
    this.group.name = 'avatars';
    scene.add(this.group);
    this.items = new Map();
    this.scale = 1;
  }

  /** Avatar size follows the model size so people stay visible on big sites. */
  setScale(s) {
    this.scale = s;
    for (const a of this.items.values()) a.head.scale.setScalar(s);
  }

  upsert(entry) {
    let a = this.items.get(entry.session_id);
    if (a && a.name === entry.name && a.color === entry.color) return a;
    if (a) this.remove(entry.session_id);
    const color = new THREE.Color(entry.color || '#88aaff');
    const mat = new THREE.MeshStandardMaterial({ color, roughness: 0.6 });
    const visorMat = new THREE.MeshBasicMaterial({ color: 0x0b0f14 });
    const head = new THREE.Group();
    const box = new THREE.Mesh(headGeo, mat);
    const visor = new THREE.Mesh(visorGeo, visorMat);
    visor.position.set(0, 0.02, -0.111);
    const label = textSprite(entry.name || 'Guest', { color: '#' + color.getHexString() });
    label.position.set(0, 0.26, 0);
    head.add(box, visor, label);
    head.scale.setScalar(this.scale);
    const left = new THREE.Mesh(handGeo, mat);
    const right = new THREE.Mesh(handGeo, mat);
    const lineGeo = new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(), new THREE.Vector3(0, 0, -1)]);
    const laser = new THREE.Line(lineGeo, new THREE.LineBasicMaterial({ color, transparent: true, opacity: 0.85 }));
    laser.frustumCulled = false;
    const hit = new THREE.Mesh(hitGeo, new THREE.MeshBasicMaterial({ color }));
    for (const o of [head, left, right, laser, hit]) {
      o.visible = false;
      this.group.add(o);
    }
    a = { session_id: entry.session_id, name: entry.name, color: entry.color, head, left, right, laser, hit, label, mat, visorMat, seen: false, hidden: null };
    this.items.set(entry.session_id, a);
    return a;
  }

  remove(sessionId) {
    const a = this.items.get(sessionId);
    if (!a) return;
    for (const o of [a.head, a.left, a.right, a.laser, a.hit]) o.removeFromParent();
    disposeSprite(a.label);
    a.mat.dispose();
    a.visorMat.dispose();
    a.laser.geometry.dispose();
    this.items.delete(sessionId);
  }

  /** Apply interpolated poses (Map session_id -> pose); `hide`: the session we follow. */
  update(poses, camera, { hide = null } = {}) {
    const camPos = new THREE.Vector3();
    camera.getWorldPosition(camPos);
    const headPos = new THREE.Vector3();
    for (const [sid, p] of poses) {
      const a = this.items.get(sid);
      if (!a || !p.head) continue;
      a.seen = true;
      place(a.head, p.head);
      place(a.left, p.left);
      place(a.right, p.right);
      a.head.getWorldPosition(headPos);
      const near = headPos.distanceTo(camPos) / this.scale;
      a.hidden = sid === hide ? 'followed' : near < NEAR_HIDE ? 'near' : null;
      if (a.hidden) {
        a.head.visible = false;
        if (sid === hide) a.left.visible = a.right.visible = false;
      }
      fade(a, a.hidden ? 1 : Math.min(1, (near - NEAR_HIDE) / (NEAR_FADE - NEAR_HIDE)));
      const L = p.laser;
      if (L) {
        const o = new THREE.Vector3(...L.origin);
        const end = L.hit ? new THREE.Vector3(...L.hit) : o.clone().add(new THREE.Vector3(...L.dir).multiplyScalar(3 * this.scale));
        const pos = a.laser.geometry.attributes.position;
        pos.setXYZ(0, o.x, o.y, o.z);
        pos.setXYZ(1, end.x, end.y, end.z);
        pos.needsUpdate = true;
        a.laser.visible = true;
        a.hit.visible = Boolean(L.hit);
        if (L.hit) {
          a.hit.position.copy(end);
          a.hit.scale.setScalar(Math.max(0.01, camPos.distanceTo(end) * 0.006));
        }
      } else {
        a.laser.visible = false;
        a.hit.visible = false;
      }
    }
  }

  /** Test hook: which avatars are on screen and where. */
  describe() {
    return [...this.items.values()].map((a) => ({
      session_id: a.session_id, name: a.name, visible: a.head.visible, hidden: a.hidden,
      opacity: a.mat.opacity,
      head: a.head.visible ? a.head.position.toArray() : null,
      laser_hit: a.hit.visible ? a.hit.position.toArray() : null,
    }));
  }
}

function fade(a, k) {
  const transparent = k < 1;
  for (const m of [a.mat, a.visorMat]) {
    if (m.transparent !== transparent) {
      m.transparent = transparent;
      m.needsUpdate = true;
    }
    m.opacity = k;
    m.depthWrite = !transparent;
  }
}

function place(obj, side) {
  if (!side) {
    obj.visible = false;
    return;
  }
  obj.visible = true;
  obj.position.fromArray(side.p);
  obj.quaternion.fromArray(side.q);
}
