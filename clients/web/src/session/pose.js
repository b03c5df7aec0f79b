// Our pose for the room: head from the (XR) camera, hands and laser from the controllers or the
// mouse, in model space, sent at the room's tick rate (unchanged poses once a second).
import * as THREE from 'three';

export class PoseSource {
  /** @param {object} deps {conn, viewer, model, xr (XRControls), pointer (PointerInput)} */
  constructor({ conn, viewer, model, xr, pointer }) {
    this.conn = conn;
    this.viewer = viewer;
    this.model = model;
    this.xr = xr;
    this.pointer = pointer;
    this.timer = null;
  }

  /** Send at `hz` from now on (the welcome's tick rate). */
  start(hz) {
    clearInterval(this.timer);
    this.timer = setInterval(() => this.send(), 1000 / Math.max(1, Math.min(60, hz)));
  }

  /** Our pose for this tick (model space). */
  current() {
    const xr = this.viewer.renderer.xr;
    const cam = xr.isPresenting ? xr.getCamera() : this.viewer.camera;
    const p = new THREE.Vector3();
    const q = new THREE.Quaternion();
    cam.getWorldPosition(p);
    cam.getWorldQuaternion(q);
    const m = this.model;
    const side = (s) => s && { p: m.toModel(new THREE.Vector3(...s.p)), q: m.quatToModel(new THREE.Quaternion(...s.q)) };
    const pose = { head: { p: m.toModel(p), q: m.quatToModel(q) }, left: null, right: null, laser: null };
    let laser = null;
    const hover = this.pointer.hoverHit;
    if (xr.isPresenting) {
      pose.left = side(this.xr.poseOf('left'));
      pose.right = side(this.xr.poseOf('right'));
      laser = this.xr.laser();
    } else if (this.pointer.pointer && hover) {
      const dir = hover.point.clone().sub(p).normalize();
      laser = { origin: p.toArray(), dir: dir.toArray(), hit: hover.point.toArray(), node_id: hover.part ?? null };
    }
    if (laser) {
      pose.laser = {
        origin: m.toModel(new THREE.Vector3(...laser.origin)),
        dir: m.toModel(new THREE.Vector3(...laser.dir), true),
        hit: laser.hit ? m.toModel(new THREE.Vector3(...laser.hit)) : null,
        node_id: laser.node_id,
      };
    }
    return pose;
  }

  send() {
    if (this.conn.state !== 'online') return;
    const pose = this.current();
    const key = JSON.stringify(pose);
    const now = performance.now();
    // Unchanged poses are re-sent once a second only (the server keeps the latest anyway).
    if (key === this.lastKey && now - this.lastAt < 1000) return;
    this.lastKey = key;
    this.lastAt = now;
    this.conn.sendPose(pose);
  }
}
