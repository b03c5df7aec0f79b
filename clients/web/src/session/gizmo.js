// The transform gizmo (move / rotate a selected part, editors only) and the throttled node.set
// stream of a drag, shared with VR grabs.
import * as THREE from 'three';
import { TransformControls } from 'three/addons/controls/TransformControls.js';

/** A drag sends node.set at most this often (and once more on release). */
export const DRAG_SEND_MS = 150;

export class TransformGizmo {
  /** @param {object} deps {viewer, model, tools, selection, bus} */
  constructor({ viewer, model, tools, selection, bus }) {
    this.viewer = viewer;
    this.model = model;
    this.tools = tools;
    this.selection = selection;
    this.dragging = null; // the part being dragged (its node state is not redrawn meanwhile)
    this.part = null; // the part the gizmo is attached to
    this.tc = new TransformControls(viewer.camera, viewer.renderer.domElement);
    this.tc.setSize(0.8);
    this.tc.addEventListener('change', () => viewer.invalidate());
    viewer.scene.add(this.tc.getHelper());
    // The gizmo drives a pivot at the part's centre (IFC parts often have their origin at the
    // site origin); the part follows the pivot's motion.
    this.pivot = new THREE.Object3D();
    this.pivot.name = 'gizmo-pivot';
    this.tc.addEventListener('dragging-changed', (e) => {
      viewer.controls.enabled = !e.value;
      const part = this.part;
      if (!part) return;
      if (e.value) {
        this._pivotStart();
        this.onDrag(part, 'start', null);
      } else {
        this.onDrag(part, 'end', this.model.partMatrix(part));
      }
    });
    this.tc.addEventListener('objectChange', () => {
      const part = this.part;
      const obj = part && this.model.displayObject(part);
      if (!obj || !this.pivotStart) return;
      this.pivot.updateMatrix();
      const delta = this.pivot.matrix.clone().multiply(this.pivotStart.inv);
      delta.multiply(this.pivotStart.part).decompose(obj.position, obj.quaternion, obj.scale);
      this.onDrag(part, 'move', this.model.partMatrix(part));
    });
    bus.on('mode', () => this.attach());
    bus.on('select', () => this.attach());
  }

  /** Whether the gizmo is in use (the pointer must not select or hover meanwhile). */
  get active() {
    return Boolean(this.tc.dragging);
  }

  _pivotStart() {
    const obj = this.model.displayObject(this.part);
    this.pivot.updateMatrix();
    obj.updateMatrix();
    this.pivotStart = { inv: this.pivot.matrix.clone().invert(), part: obj.matrix.clone() };
  }

  /** Attach to the selected part in move / rotate mode (editors), detach otherwise. */
  attach() {
    const tool = this.tools.mode;
    const mode = tool === 'move' ? 'translate' : tool === 'rotate' ? 'rotate' : null;
    const sel = this.selection.part;
    const obj = mode && sel && this.tools.can('node.set') ? this.model.displayObject(sel) : null;
    if (obj) {
      // Place the pivot at the part's bounding-box centre, in the part's parent space.
      obj.parent.add(this.pivot);
      obj.updateWorldMatrix(true, true);
      const center = new THREE.Box3().setFromObject(obj).getCenter(new THREE.Vector3());
      this.pivot.position.copy(obj.parent.worldToLocal(center));
      this.pivot.quaternion.identity();
      this.pivot.scale.set(1, 1, 1);
      this.tc.setMode(mode);
      this.tc.attach(this.pivot);
      this.part = sel;
    } else {
      this.tc.detach();
      this.pivot.removeFromParent();
      this.part = null;
    }
    this.viewer.invalidate();
  }

  /** Drag of a part (gizmo or VR grab): throttled node.set while moving, a final one on release. */
  onDrag(part, phase, matrix) {
    if (phase === 'start') {
      this.dragging = part;
      this.lastDragSend = 0;
      return;
    }
    const now = performance.now();
    if (phase === 'end' || now - this.lastDragSend > DRAG_SEND_MS) {
      this.lastDragSend = now;
      if (matrix) this.tools.send('node.set', { node_id: part, props: { transform: matrix.map((v) => Math.round(v * 1e6) / 1e6) } });
    }
    if (phase === 'end') this.dragging = null;
  }

  /** Screen-space helper for tests: the pivot's world position, or null when detached. */
  pivotWorld() {
    return this.tc.object ? this.tc.object.getWorldPosition(new THREE.Vector3()) : null;
  }
}
