// Our own section box: six clipping planes around the selected element (or the whole model),
// resized by dragging a handle on each face. Drawn through SectionView with our section plane.
import * as THREE from 'three';
import { toast } from '../ui/dom.js';
import { BoxHandles } from '../viewer/boxhandles.js';
import { modelBounds } from './frames.js';

/** Margin around the selected element, as a fraction of its size (at least MIN_MARGIN_M). */
const MARGIN = 0.05;
const MIN_MARGIN_M = 0.05;
/** While a handle is dragged the full view state is redrawn at most this often. */
const REDRAW_MS = 100;

export class SectionBoxControl {
  /** @param {object} deps {viewer, model, own, section (SectionView), tools, selection, apply()} */
  constructor({ viewer, model, own, section, tools, selection, apply }) {
    Object.assign(this, { viewer, model, own, section, tools, selection, apply });
    this.handles = new BoxHandles(model.root);
    this.drag = null;
    tools.register('sectionbox', () => this.toggle());
    const canvas = viewer.renderer.domElement;
    // Capture: a handle drag starts before the orbit controls and the click routing see it.
    canvas.addEventListener('pointerdown', (e) => this._down(e), { capture: true });
    canvas.addEventListener('pointermove', (e) => this._move(e), { capture: true });
    canvas.addEventListener('pointerup', (e) => this._up(e), { capture: true });
  }

  /** The box around the selected element (padded), or around the model; model space. */
  boxAround(part = this.selection.part) {
    const world = part ? this.model.elementBox(part) : null;
    let box;
    if (world) {
      box = world.clone().applyMatrix4(this.model.root.matrixWorld.clone().invert());
      const pad = box.getSize(new THREE.Vector3()).multiplyScalar(MARGIN).max(new THREE.Vector3(MIN_MARGIN_M, MIN_MARGIN_M, MIN_MARGIN_M));
      box.min.sub(pad);
      box.max.add(pad);
    } else {
      box = modelBounds(this.model);
    }
    return box ? { min: box.min.toArray(), max: box.max.toArray() } : null;
  }

  toggle() {
    if (this.own.box) {
      this.set(null);
      return;
    }
    const box = this.boxAround();
    if (!box) {
      toast('The model is still loading.');
      return;
    }
    this.set(box);
    toast(this.selection.part ? 'Section box around the selection (yours only). Drag a handle to resize.' : 'Section box around the model (yours only). Drag a handle to resize.');
  }

  /** Our box (model space; null removes it). */
  set(box) {
    this.own.setBox(box);
    this.refresh();
    this.apply();
    this.tools.toolbar.setActive('sectionbox', Boolean(box));
  }

  /** Redraw the handles for our box (after it changed or our view was replaced). */
  refresh() {
    const box = this.own.box;
    if (box) {
      const size = new THREE.Vector3(...box.max).sub(new THREE.Vector3(...box.min));
      this.handles.set(box, Math.max(0.08, Math.min(size.x, size.y, size.z) * 0.12, Math.max(size.x, size.y, size.z) * 0.03));
    } else {
      this.handles.set(null);
    }
    this.tools.toolbar.setActive('sectionbox', Boolean(box));
    this.viewer.invalidate();
  }

  _ray(e) {
    this.viewer.raycaster.setFromCamera(this.viewer.ndc(e), this.viewer.camera);
    return this.viewer.raycaster;
  }

  _down(e) {
    if (e.button !== 0 || !this.own.box) return;
    const face = this.handles.pick(this._ray(e));
    if (!face) return;
    e.stopImmediatePropagation();
    e.preventDefault();
    this.viewer.controls.enabled = false;
    this.viewer.renderer.domElement.setPointerCapture?.(e.pointerId);
    this.drag = { face, last: 0 };
  }

  /** Where the pointer ray passes closest to the handle's axis line: the face's new coordinate. */
  _coordinate(e, face) {
    const root = this.model.root.matrixWorld;
    const box = this.own.box;
    const c = new THREE.Vector3(...box.min).add(new THREE.Vector3(...box.max)).multiplyScalar(0.5);
    const dir = new THREE.Vector3().setComponent(face.axis, 1);
    const a = c.clone().applyMatrix4(root);
    const b = c.clone().add(dir).applyMatrix4(root);
    const axisDir = b.clone().sub(a).normalize();
    const ray = this._ray(e).ray;
    // Closest point on the axis line to the ray (two skew lines).
    const w0 = a.clone().sub(ray.origin);
    const bb = axisDir.dot(ray.direction);
    const d = axisDir.dot(w0);
    const ee = ray.direction.dot(w0);
    const denom = 1 - bb * bb;
    if (denom < 1e-6) return null; // looking along the axis
    const t = (bb * ee - d) / denom;
    const worldPoint = a.clone().addScaledVector(axisDir, t);
    return worldPoint.applyMatrix4(root.clone().invert()).getComponent(face.axis);
  }

  _move(e) {
    if (!this.drag) return;
    e.stopImmediatePropagation();
    const { axis, side } = this.drag.face;
    const v = this._coordinate(e, this.drag.face);
    if (v === null || !Number.isFinite(v)) return;
    const box = { min: [...this.own.box.min], max: [...this.own.box.max] };
    const gap = 0.01;
    if (side < 0) box.min[axis] = Math.min(v, box.max[axis] - gap);
    else box.max[axis] = Math.max(v, box.min[axis] + gap);
    this.own.setBox(box);
    this.refresh();
    const now = performance.now();
    if (now - this.drag.last > REDRAW_MS) {
      this.drag.last = now;
      this.apply();
    } else {
      this.section.apply(this.section.current ? { s: this.section.current } : {}, this.own.box);
    }
  }

  _up(e) {
    if (!this.drag) return;
    e.stopImmediatePropagation();
    this.drag = null;
    this.viewer.controls.enabled = true;
    this.apply();
  }

  /** For window.__vrcollab.info().section_box: the box (model space) and handles (world). */
  describe() {
    const box = this.own.box;
    if (!box) return null;
    const world = new THREE.Box3(new THREE.Vector3(...box.min), new THREE.Vector3(...box.max)).applyMatrix4(this.model.root.matrixWorld);
    return { ...box, world: [world.min.toArray(), world.max.toArray()], handles: this.handles.worldHandles() };
  }
}
