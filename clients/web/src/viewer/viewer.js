// The 3D stage: renderer, camera rig, orbit controls, lights, the frame loop, picking and
// camera flights. Everything XR-specific lives in xr.js; everything model-specific in model.js.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { BATCHED_LAYER } from './batches.js';
import { installBVH } from './bvh.js';
import { isSoftwareRenderer } from './tilebudget.js';

installBVH();

/**
 * The WebGL renderer's name from a throwaway context ('' when unknown), read before the real
 * context is made: its attributes (MSAA) cannot change later.
 */
export function probeRendererName() {
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (!gl) return '';
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const name = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return name;
  } catch {
    return '';
  }
}

/** Layer the hidden pick proxy (coarse level) lives on; cameras never render it. */
export const PICK_LAYER = 5;

const ease = (t) => (t < 0.5 ? 4 * t * t * t : 1 - (-2 * t + 2) ** 3 / 2);

export class Viewer {
  /**
   * `quality: 'low'` drops MSAA and caps the pixel ratio at 1 (weak GPUs, software GL). A
   * software renderer (no GPU: SwiftShader, llvmpipe) always gets 'low': there every drawn
   * frame is rasterised on the CPU and read back while the page's main thread waits, and 4x
   * MSAA multiplies that wait.
   */
  constructor(container, { quality = 'high' } = {}) {
    this.container = container;
    this.softwareRenderer = isSoftwareRenderer(probeRendererName());
    const low = quality === 'low' || this.softwareRenderer;
    this.quality = low ? 'low' : 'high';
    this.renderer = new THREE.WebGLRenderer({ antialias: !low, powerPreference: 'high-performance' });
    this.renderer.setPixelRatio(low ? 1 : Math.min(window.devicePixelRatio, 2));
    this.renderer.xr.enabled = true;
    this.renderer.xr.setReferenceSpaceType('local-floor');
    this.renderer.outputColorSpace = THREE.SRGBColorSpace;
    container.append(this.renderer.domElement);

    this.scene = new THREE.Scene();
    this.background = new THREE.Color(0x1b222b);
    this.scene.background = this.background;
    this.camera = new THREE.PerspectiveCamera(50, 1, 0.05, 5000);
    this.camera.position.set(8, 6, 10);
    this.rig = new THREE.Group();
    this.rig.name = 'rig';
    this.rig.add(this.camera);
    this.scene.add(this.rig);

    const hemi = new THREE.HemisphereLight(0xffffff, 0x445566, 1.6);
    const sun = new THREE.DirectionalLight(0xffffff, 2.2);
    sun.position.set(5, 10, 7);
    this.scene.add(hemi, sun);

    this.grid = new THREE.GridHelper(20, 20, 0x3a4757, 0x262f3a);
    this.scene.add(this.grid);

    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = true;
    this.controls.dampingFactor = 0.12;
    this.controls.screenSpacePanning = true;
    this.controls.addEventListener('change', () => this.invalidate());

    this.raycaster = new THREE.Raycaster();
    this.raycaster.firstHitOnly = true;
    this.clock = new THREE.Clock();
    this.frameHooks = new Set();
    this.flight = null;
    this.stats = { frames: 0, fps: 0, frameMsMax: 0, calls: 0, triangles: 0 };
    this._fpsWindow = { n: 0, t0: performance.now(), worst: 0 };
    // Render on demand on desktop: idle frames cost nothing (battery, and other tabs).
    this._dirtyUntil = 0;
    this.rendered = 0;
    this.afterRender = null;
    this.beforeRender = null;
    // Called on every animation frame, drawn or not (streaming work that may or may not change
    // the picture; it calls invalidate() when it does).
    this.tick = null;

    this._resize = () => this.resize();
    window.addEventListener('resize', this._resize);
    new ResizeObserver(this._resize).observe(container);
    this.resize();
    this.renderer.setAnimationLoop((t, frame) => this._frame(t, frame));
  }

  /** Ask for frames to be drawn for the next `ms` milliseconds (default: one frame). */
  invalidate(ms = 0) {
    this._dirtyUntil = Math.max(this._dirtyUntil, performance.now() + ms);
    this._dirty = true;
  }

  /** Whether the current animation frame will be drawn (asked for, flying, or in XR). */
  get drawPending() {
    return this._dirty || Boolean(this.flight) || this.renderer.xr.isPresenting || performance.now() <= this._dirtyUntil;
  }

  /** Fit the canvas and camera to the container (`force`: even at an unchanged size). */
  resize(force = false) {
    if (this.renderer.xr.isPresenting) {
      this.invalidate();
      return;
    }
    const w = Math.max(1, this.container.clientWidth);
    const h = Math.max(1, this.container.clientHeight);
    // The ResizeObserver's first call repeats the constructor's size: no second frame for it.
    if (!force && w === this._w && h === this._h) return;
    this._w = w;
    this._h = h;
    this.invalidate();
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
  }

  /** Register fn(dt, time, xrFrame); returns an unsubscribe function. */
  onFrame(fn) {
    this.frameHooks.add(fn);
    return () => this.frameHooks.delete(fn);
  }

  _frame(time, xrFrame) {
    const t0 = performance.now();
    const dt = Math.min(0.1, this.clock.getDelta());
    if (this.flight) {
      this._fly(t0);
      this._dirty = true;
    }
    if (!this.renderer.xr.isPresenting) this.controls.update();
    for (const fn of this.frameHooks) fn(dt, time, xrFrame);
    this.tick?.();
    const presenting = this.renderer.xr.isPresenting;
    if (!presenting && !this._dirty && !this.flight && t0 > this._dirtyUntil) return;
    this._dirty = false;
    this.beforeRender?.();
    this.renderer.render(this.scene, this.camera);
    this.rendered += 1;
    const info = this.renderer.info.render;
    this.stats.calls = info.calls;
    this.stats.triangles = info.triangles;
    this.stats.frames += 1;
    this.afterRender?.();
    const w = this._fpsWindow;
    w.n += 1;
    w.worst = Math.max(w.worst, performance.now() - t0);
    if (t0 - w.t0 >= 1000) {
      this.stats.fps = Math.round((w.n * 1000) / (t0 - w.t0));
      this.stats.frameMsMax = Math.round(w.worst * 10) / 10;
      w.n = 0;
      w.t0 = t0;
      w.worst = 0;
    }
  }

  /** Normalised device coordinates of a pointer event over the canvas. */
  ndc(ev) {
    const r = this.renderer.domElement.getBoundingClientRect();
    return new THREE.Vector2(((ev.clientX - r.left) / r.width) * 2 - 1, -((ev.clientY - r.top) / r.height) * 2 + 1);
  }

  /** Intersections of a camera ray through `ndc` with `root` (on `layer`). */
  pickScreen(ndc, root, layer = 0) {
    this.raycaster.setFromCamera(ndc, this.camera);
    return this.pickRay(this.raycaster.ray.origin, this.raycaster.ray.direction, root, layer);
  }

  pickRay(origin, dir, root, layer = 0) {
    this.raycaster.set(origin, dir);
    this.raycaster.layers.set(layer);
    // Batched part meshes are not drawn but are what picking hits.
    if (layer === 0) this.raycaster.layers.enable(BATCHED_LAYER);
    if (!root) return [];
    // BVH raycasts stop at each mesh's nearest hit; with a section plane the nearest may be
    // clipped away, so then every hit along the ray is collected and filtered.
    this.raycaster.firstHitOnly = !this.renderer.clippingPlanes.length && !this.allHits;
    const hits = this.raycaster.intersectObject(root, true);
    return hits.filter((h) => effectivelyVisible(h.object, root));
  }

  /** Current camera viewpoint record (protocol `viewpoint`). */
  viewpoint() {
    const cam = this.renderer.xr.isPresenting ? this.renderer.xr.getCamera() : this.camera;
    const pos = new THREE.Vector3();
    const quat = new THREE.Quaternion();
    cam.getWorldPosition(pos);
    cam.getWorldQuaternion(quat);
    const target = this.renderer.xr.isPresenting
      ? pos.clone().add(new THREE.Vector3(0, 0, -2).applyQuaternion(quat))
      : this.controls.target.clone();
    const up = new THREE.Vector3(0, 1, 0).applyQuaternion(quat);
    return { position: pos.toArray(), target: target.toArray(), up: up.toArray(), fov: this.camera.fov };
  }

  /** Animate the camera to a viewpoint (position + target). */
  flyTo({ position, target }, ms = 700) {
    if (this.renderer.xr.isPresenting) {
      // In VR, move the rig so the head ends up at the viewpoint's position.
      const head = new THREE.Vector3();
      this.renderer.xr.getCamera().getWorldPosition(head);
      this.rig.position.add(new THREE.Vector3(...position).sub(head));
      return;
    }
    this.flight = {
      t0: performance.now(), ms,
      p0: this.camera.position.clone(), p1: new THREE.Vector3(...position),
      c0: this.controls.target.clone(), c1: new THREE.Vector3(...target),
    };
  }

  _fly(now) {
    const f = this.flight;
    const k = Math.min(1, (now - f.t0) / f.ms);
    const e = ease(k);
    this.camera.position.lerpVectors(f.p0, f.p1, e);
    this.controls.target.lerpVectors(f.c0, f.c1, e);
    if (k >= 1) this.flight = null;
  }

  /** Fly so that the point stays the target and the camera moves closer to it. */
  flyToPoint(point, distanceFactor = 0.45) {
    const p = point.clone ? point.clone() : new THREE.Vector3(...point);
    const offset = this.camera.position.clone().sub(this.controls.target).multiplyScalar(distanceFactor);
    const minLen = 0.5;
    if (offset.length() < minLen) offset.setLength(minLen);
    this.flyTo({ position: p.clone().add(offset).toArray(), target: p.toArray() });
  }

  /** Fly to frame a box (world), looking from the current direction. */
  flyToBox(box, ms = 700) {
    const center = box.getCenter(new THREE.Vector3());
    const radius = Math.max(box.getSize(new THREE.Vector3()).length() / 2, 0.25);
    const dist = (radius / Math.sin(THREE.MathUtils.degToRad(this.camera.fov / 2))) * 1.2;
    const dir = this.camera.position.clone().sub(this.controls.target);
    if (dir.lengthSq() < 1e-9) dir.set(1, 0.7, 1.2);
    this.flyTo({ position: center.clone().add(dir.setLength(dist)).toArray(), target: center.toArray() }, ms);
  }

  /** Frame a bounding box in view. */
  frameBox(box, immediate = false) {
    const size = box.getSize(new THREE.Vector3());
    const center = box.getCenter(new THREE.Vector3());
    const radius = Math.max(size.length() / 2, 0.1);
    const dist = radius / Math.sin(THREE.MathUtils.degToRad(this.camera.fov / 2)) * 1.15;
    const dir = new THREE.Vector3(1, 0.7, 1.2).normalize();
    const position = center.clone().add(dir.multiplyScalar(dist));
    this.camera.near = Math.max(0.01, radius / 500);
    this.camera.far = Math.max(100, radius * 50);
    this.camera.updateProjectionMatrix();
    this.controls.maxDistance = radius * 20;
    this.grid.scale.setScalar(Math.max(1, radius / 5));
    this.grid.position.set(center.x, box.min.y - 0.001, center.z);
    if (immediate) {
      this.camera.position.copy(position);
      this.controls.target.copy(center);
      this.controls.update();
    } else {
      this.flyTo({ position: position.toArray(), target: center.toArray() });
    }
  }
}

/** True unless the object or an ancestor below `root` is hidden. */
export function effectivelyVisible(obj, root) {
  for (let o = obj; o && o !== root; o = o.parent) if (!o.visible) return false;
  return true;
}
