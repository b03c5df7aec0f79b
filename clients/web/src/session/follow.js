// Follow (a person, or whoever presents), gather, presenting, and where a newcomer's camera
// starts (apart from the others): everything that moves our camera because of other people.
import * as THREE from 'three';
import { spawnAzimuth, followPose } from '../tools/people.js';
import { toast } from '../ui/dom.js';

export class FollowControl {
  /** @param {object} deps {conn, viewer, model, avatars, tools, bus, onChange() (people list)} */
  constructor({ conn, viewer, model, avatars, tools, bus, onChange }) {
    this.conn = conn;
    this.viewer = viewer;
    this.model = model;
    this.avatars = avatars;
    this.tools = tools;
    this.onChange = onChange;
    this.following = null; // session id we follow, or 'presenter'
    this.spawnIndex = null; // how many others were in the room when we first joined
    this.spawned = false;
    bus.on('welcome', (w) => {
      this.spawnIndex ??= (w.presence ?? []).filter((p) => p.session_id !== w.session_id).length;
    });
    bus.on('state', (view) => this.tools.toolbar.setActive('present', Boolean(view.presenter) && view.presenter === this.tools.me));
    conn.on('presence', (m) => {
      if (m.event === 'leave' && this.following === m.entry.session_id) this.following = null;
    });
    conn.on('gather', (m) => this.onGather(m));
    tools.register('present', () => {
      const me = this.tools.me;
      this.tools.send('presenter.set', { user_id: this.conn.mirror.view.presenter === me ? null : me });
    });
    tools.register('follow', () => {
      this.follow(this.following === 'presenter' ? null : 'presenter');
      if (this.following && !this.conn.mirror.view.presenter) toast('Nobody is presenting right now.');
    });
    tools.register('gather', () => {
      if (this.conn.command('gather')) toast('Bringing everyone to your view.');
    });
  }

  /** Follow a session ('presenter' tracks whoever presents); the server tells the others (R13). */
  follow(target) {
    this.following = target;
    this.tools.toolbar.setActive('follow', target === 'presenter');
    const sid = target === 'presenter' ? this.presenterSession() : target;
    this.conn.command('follow', { session_id: sid ?? null });
    this.onChange();
  }

  /** The followed session id (the presenter's when following 'presenter'), or null. */
  followedSession() {
    return this.following === 'presenter' ? this.presenterSession() : this.following;
  }

  presenterSession() {
    const uid = this.conn.mirror.view.presenter;
    if (!uid) return null;
    for (const [sid, e] of this.conn.participants) if (e.user_id === uid) return sid;
    return null;
  }

  /** Each frame: the camera tracks the followed head; it is hidden, heads near us fade out. */
  frame(poses) {
    const xr = this.viewer.renderer.xr;
    const sid = this.followedSession();
    if (this.following && !xr.isPresenting) {
      this.viewer.invalidate();
      const p = sid && poses.get(sid);
      if (p?.head) this._copyHead(p.head);
    }
    this.avatars.update(poses, xr.isPresenting ? xr.getCamera() : this.viewer.camera, { hide: this.following ? sid : null });
  }

  /** Follow: the camera sits a little behind and above the followed head, looking the same way. */
  _copyHead(head) {
    const cam = this.viewer.camera;
    const q = this.model.quatFromModel(head.q);
    const at = this.model.fromModel(head.p);
    const { position, target } = followPose(at, q, this.avatars.scale);
    cam.position.copy(position);
    this.viewer.controls.target.copy(target);
    cam.quaternion.copy(q);
  }

  onGather(m) {
    const head = m.pose?.head;
    if (!head) return;
    const fwd = new THREE.Vector3(0, 0, -1).applyQuaternion(this.model.quatFromModel(head.q));
    const at = this.model.fromModel(head.p);
    const pos = at.clone().addScaledVector(fwd, -0.5);
    const target = at.clone().addScaledVector(fwd, 3);
    this.viewer.flyTo({ position: pos.toArray(), target: target.toArray() });
    const who = this.conn.participants.get(m.from)?.name ?? 'A participant';
    toast(`${who} gathered everyone to their view.`);
  }

  /** Desktop clients start at distinct framings around the model (the k-th person in the room
   * at the k-th golden-angle turn), so nobody starts inside someone else's head. */
  spawnApart() {
    this.spawned = true;
    if (this.viewer.renderer.xr.isPresenting || this.following) return;
    const angle = spawnAzimuth(this.spawnIndex ?? 0);
    if (!angle) return;
    const c = this.viewer.controls.target;
    const off = this.viewer.camera.position.clone().sub(c).applyAxisAngle(new THREE.Vector3(0, 1, 0), angle);
    this.viewer.camera.position.copy(c).add(off);
    this.viewer.controls.update();
    this.viewer.invalidate();
  }
}
