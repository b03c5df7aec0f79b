// Immersive sessions (VR and AR passthrough): session buttons, controller rays, the trigger
// (the wrist menu's tool, xr/xrtools.js; the menu itself first where the ray meets it), grip to
// grab a part, thumbstick to fly, A/X to teleport to the ray's hit point, Y to open the menu.
import * as THREE from 'three';
import { InputModels } from '../xr/inputmodels.js';

const rayGeo = new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(), new THREE.Vector3(0, 0, -1)]);
const reticleGeo = new THREE.RingGeometry(0.6, 1, 24);

export class XRControls {
  /**
   * @param {import('./viewer.js').Viewer} viewer
   * @param {import('./model.js').ModelView} model
   * @param {object} hooks  onTrigger(hit, controller), onRelease(controller), onAim(controller) (each
   *                       XR frame), onGrab(part, phase, worldMatrix), onSession(mode|null),
   *                       onSqueeze(controller)
   */
  constructor(viewer, model, hooks) {
    this.viewer = viewer;
    this.model = model;
    this.hooks = hooks;
    this.mode = null;
    this.speed = 1.5;
    this.controllers = [];
    this.grab = null;
    this.menu = null; // the wrist menu (xr/menu.js), on the left grip
    const xr = viewer.renderer.xr;
    for (let i = 0; i < 2; i += 1) {
      const ray = xr.getController(i);
      const grip = xr.getControllerGrip(i);
      const line = new THREE.Line(rayGeo, new THREE.LineBasicMaterial({ color: 0x7fb1ff, transparent: true, opacity: 0.9 }));
      line.scale.z = 5;
      line.frustumCulled = false;
      ray.add(line);
      const reticle = new THREE.Mesh(reticleGeo, new THREE.MeshBasicMaterial({ color: 0xffffff, side: THREE.DoubleSide, depthTest: false }));
      reticle.visible = false;
      reticle.renderOrder = 12;
      viewer.scene.add(reticle);
      const body = new THREE.Mesh(new THREE.BoxGeometry(0.04, 0.03, 0.12), new THREE.MeshStandardMaterial({ color: 0x2a3441 }));
      grip.add(body);
      const c = { index: i, ray, grip, body, line, reticle, source: null, hit: null, menuHit: null, aPressed: false, yPressed: false };
      c.rayNow = () => {
        c.ray.updateMatrixWorld(true);
        return this._ray(c);
      };
      ray.addEventListener('connected', (e) => { c.source = e.data; });
      ray.addEventListener('disconnected', () => { c.source = null; });
      ray.addEventListener('selectstart', () => this._trigger(c));
      ray.addEventListener('selectend', () => this.hooks.onRelease?.(c));
      ray.addEventListener('squeezestart', () => {
        this.hooks.onSqueeze?.(c);
        this._grabStart(c);
      });
      ray.addEventListener('squeezeend', () => this._grabEnd(c));
      viewer.rig.add(ray, grip);
      this.controllers.push(c);
    }
    this.inputModels = new InputModels(xr, viewer.rig, this.controllers);
    viewer.onFrame((dt) => this._frame(dt));
  }

  /** The wrist menu (xr/menu.js): shown on the left controller, picked with the other's ray. */
  setMenu(menu) {
    this.menu = menu;
  }

  /** Which immersive modes this browser offers. */
  static async supported() {
    const xr = navigator.xr;
    if (!xr) return { vr: false, ar: false };
    const check = (m) => xr.isSessionSupported(m).catch(() => false);
    const [vr, ar] = await Promise.all([check('immersive-vr'), check('immersive-ar')]);
    return { vr, ar };
  }

  async enter(mode) {
    if (this.mode) return;
    const session = await navigator.xr.requestSession(mode === 'ar' ? 'immersive-ar' : 'immersive-vr', {
      optionalFeatures: ['local-floor', 'bounded-floor', 'hand-tracking'],
    });
    this.session = session;
    this.mode = mode;
    this._savedBackground = this.viewer.scene.background;
    if (mode === 'ar') {
      this.viewer.scene.background = null;
      this.viewer.grid.visible = false;
    }
    session.addEventListener('end', () => {
      this.mode = null;
      this.session = null;
      this.menu?.toggle(false);
      this.viewer.scene.background = this._savedBackground;
      this.viewer.grid.visible = true;
      for (const c of this.controllers) c.reticle.visible = false;
      this.viewer.resize(true); // the XR session left its own projection on the camera
      this.hooks.onSession?.(null);
    });
    await this.viewer.renderer.xr.setSession(session);
    this._placeRig();
    this.hooks.onSession?.(mode);
  }

  exit() {
    this.session?.end();
  }

  /** Start the headset next to the model, looking at it (VR); at the origin in AR. */
  _placeRig() {
    const box = this.model.bounds;
    if (!box || box.isEmpty() || this.mode === 'ar') return;
    const center = box.getCenter(new THREE.Vector3());
    const size = box.getSize(new THREE.Vector3());
    this.speed = Math.max(1.5, size.length() / 8);
    this.viewer.rig.position.set(center.x, box.min.y, center.z + size.z / 2 + Math.max(1.5, size.length() * 0.25));
  }

  /** World pose of a controller as {p, q} arrays, or null. */
  poseOf(handedness) {
    const c = this.controllers.find((x) => x.source?.handedness === handedness);
    if (!c || !c.source) return null;
    const p = new THREE.Vector3();
    const q = new THREE.Quaternion();
    c.grip.getWorldPosition(p);
    c.grip.getWorldQuaternion(q);
    return { p: p.toArray(), q: q.toArray() };
  }

  /** The right (or first) controller's ray and hit for the laser pose. */
  laser() {
    const c = this.controllers.find((x) => x.source?.handedness === 'right') ?? this.controllers.find((x) => x.source);
    if (!c) return null;
    const { origin, dir } = this._ray(c);
    return { origin: origin.toArray(), dir: dir.toArray(), hit: c.hit ? c.hit.point.toArray() : null, node_id: c.hit?.part ?? null };
  }

  _ray(c) {
    const m = c.ray.matrixWorld;
    const origin = new THREE.Vector3().setFromMatrixPosition(m);
    const dir = new THREE.Vector3(0, 0, -1).transformDirection(m);
    return { origin, dir };
  }

  _frame(dt) {
    if (!this.mode) return;
    const head = this.viewer.renderer.xr.getCamera();
    this.inputModels.frame();
    for (const c of this.controllers) {
      if (!c.source) continue;
      const left = c.source.handedness === 'left';
      if (left && this.menu) this.menu.attach(c.grip);
      c.ray.updateMatrixWorld(true);
      const { origin, dir } = this._ray(c);
      c.hit = this.model.pickRay(origin, dir);
      // The open menu is in front of the model for the other hand's ray.
      c.menuHit = this.menu && !left ? this.menu.hit(origin, dir) : null;
      if (c.menuHit && (!c.hit || c.menuHit.distance < c.hit.distance)) {
        c.line.scale.z = c.menuHit.distance;
        c.reticle.visible = false;
        this.menu.update({ hover: c.menuHit.item?.id ?? null });
      } else if (c.hit) {
        c.menuHit = null;
        c.line.scale.z = c.hit.distance;
        c.reticle.visible = true;
        c.reticle.position.copy(c.hit.point).addScaledVector(c.hit.normal, 0.002);
        c.reticle.lookAt(c.hit.point.clone().add(c.hit.normal));
        c.reticle.scale.setScalar(Math.max(0.01, c.hit.distance * 0.012));
      } else {
        c.line.scale.z = 5;
        c.reticle.visible = false;
      }
      if (!left && this.menu && !c.menuHit) this.menu.update({ hover: null });
      const gp = c.source.gamepad;
      if (gp) {
        const x = gp.axes[2] ?? 0;
        const y = gp.axes[3] ?? 0;
        if (Math.abs(x) > 0.15 || Math.abs(y) > 0.15) {
          // Fly where the head looks; strafe sideways.
          const fwd = new THREE.Vector3(0, 0, -1).applyQuaternion(head.getWorldQuaternion(new THREE.Quaternion()));
          const side = new THREE.Vector3(1, 0, 0).applyQuaternion(head.getWorldQuaternion(new THREE.Quaternion()));
          this.viewer.rig.position.addScaledVector(fwd, -y * this.speed * dt).addScaledVector(side, x * this.speed * dt);
        }
        const a = Boolean(gp.buttons[4]?.pressed);
        if (a && !c.aPressed && c.hit) this.teleport(c.hit.point);
        c.aPressed = a;
        // Y (the left controller's upper button) opens and closes the wrist menu.
        const yButton = left && Boolean(gp.buttons[5]?.pressed);
        if (yButton && !c.yPressed) this.menu?.toggle();
        c.yPressed = yButton;
      }
      if (this.grab && this.grab.c === c) this._grabMove(c);
      this.hooks.onAim?.(c);
    }
  }

  /** Move the rig so the user stands at `point` (feet on it). */
  teleport(point) {
    const headWorld = new THREE.Vector3();
    this.viewer.renderer.xr.getCamera().getWorldPosition(headWorld);
    const rig = this.viewer.rig.position;
    rig.x += point.x - headWorld.x;
    rig.z += point.z - headWorld.z;
    rig.y = point.y;
  }

  _trigger(c) {
    const { origin, dir } = c.rayNow();
    const hit = this.model.pickRay(origin, dir);
    const onMenu = this.menu && c.source?.handedness !== 'left' ? this.menu.hit(origin, dir) : null;
    if (onMenu && (!hit || onMenu.distance < hit.distance)) {
      this.menu.press(onMenu.item);
      return;
    }
    if (hit) this.hooks.onTrigger?.(hit, c);
  }

  _grabStart(c) {
    const hit = c.hit;
    if (!hit || !hit.part || !this.hooks.canGrab?.(hit.part)) return;
    const obj = this.model.displayObject(hit.part);
    if (!obj) return;
    c.ray.updateMatrixWorld(true);
    obj.updateMatrixWorld(true);
    // Keep the part's pose relative to the controller while the grip is held.
    const offset = c.ray.matrixWorld.clone().invert().multiply(obj.matrixWorld);
    this.grab = { c, part: hit.part, obj, offset, last: 0 };
    this.hooks.onGrab?.(hit.part, 'start', null);
  }

  _grabMove(c) {
    const g = this.grab;
    const world = c.ray.matrixWorld.clone().multiply(g.offset);
    const parentInv = g.obj.parent.matrixWorld.clone().invert();
    const local = parentInv.multiply(world);
    local.decompose(g.obj.position, g.obj.quaternion, g.obj.scale);
    this.hooks.onGrab?.(g.part, 'move', Array.from(local.elements));
  }

  _grabEnd(c) {
    if (!this.grab || this.grab.c !== c) return;
    const g = this.grab;
    this.grab = null;
    g.obj.updateMatrix();
    this.hooks.onGrab?.(g.part, 'end', Array.from(g.obj.matrix.elements));
  }
}
