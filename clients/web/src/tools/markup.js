// 3D markup: polylines drawn on the model (desktop: click points, double-click or Enter to
// finish, Esc to cancel), coloured per author, kept in the room as `markup` records (model
// space, metres) and drawn for everyone; erasable by their author and by editors.
import * as THREE from 'three';
import { newId } from '../state/codec.js';

/** Points of one markup (protocol bound, MAX_MARKUP_POINTS). */
export const MAX_MARKUP_POINTS = 500;
/** Lift off the surface, as a fraction of the camera distance, so a stroke is not inside it. */
const LIFT = 0.002;

/** Markup points (model space, mm-rounded) from world points. */
export function markupRecord(points, color, annotationId = null) {
  const round = (v) => v.map((x) => Math.round(x * 1000) / 1000);
  const rec = { id: newId('k'), points: points.slice(0, MAX_MARKUP_POINTS).map(round), color };
  if (annotationId) rec.annotation_id = annotationId;
  return rec;
}

/** The polyline tool: collects points on the model, then sends markup.create. */
export class MarkupTool {
  /** @param {object} app {viewer, model, send(kind, fields), color() -> '#rrggbb'} */
  constructor(app) {
    this.app = app;
    this.points = []; // world
    this.line = new THREE.Line(new THREE.BufferGeometry(), new THREE.LineBasicMaterial({ color: 0xffffff, depthTest: false, transparent: true }));
    this.line.renderOrder = 16;
    this.line.frustumCulled = false;
    this.line.raycast = () => {};
    app.viewer.scene.add(this.line);
    this.hoverPoint = null;
  }

  /** A point on the hit, lifted toward the camera. */
  _lifted(hit) {
    const cam = this.app.viewer.camera.getWorldPosition(new THREE.Vector3());
    const p = hit.point.clone();
    return p.add(cam.clone().sub(p).multiplyScalar(LIFT));
  }

  _draw() {
    const pts = this.hoverPoint ? [...this.points, this.hoverPoint] : this.points;
    this.line.geometry.dispose();
    this.line.geometry = new THREE.BufferGeometry().setFromPoints(pts);
    this.line.material.color.set(this.app.color());
    this.line.visible = pts.length >= 2;
    this.app.viewer.invalidate();
  }

  hover(hit) {
    this.hoverPoint = hit && this.points.length ? this._lifted(hit) : null;
    this._draw();
  }

  /** A click: adds a point on the model (returns how many the stroke has). */
  click(hit) {
    if (!hit || this.points.length >= MAX_MARKUP_POINTS) return this.points.length;
    this.points.push(this._lifted(hit));
    this._draw();
    return this.points.length;
  }

  /** Finish the stroke: sends markup.create (two points at least); returns the record or null. */
  finish(annotationId = null) {
    const pts = this.points;
    this.reset();
    if (pts.length < 2) return null;
    const rec = markupRecord(pts.map((p) => this.app.model.toModel(p)), this.app.color(), annotationId);
    return this.app.send('markup.create', { markup: rec }) ? rec : null;
  }

  reset() {
    this.points = [];
    this.hoverPoint = null;
    this._draw();
  }

  describe() {
    return { points: this.points.length };
  }
}

/** Everyone's markup: one polyline each, in its author's colour (model space). */
export class MarkupsView {
  constructor(root) {
    this.group = new THREE.Group();
    this.group.name = 'markup';
    root.add(this.group);
    this.items = new Map();
  }

  sync(markups) {
    const seen = new Set();
    for (const m of Object.values(markups ?? {})) {
      if (!Array.isArray(m.points) || m.points.length < 2) continue;
      seen.add(m.id);
      if (this.items.has(m.id)) continue;
      const line = new THREE.Line(new THREE.BufferGeometry().setFromPoints(m.points.map((p) => new THREE.Vector3(...p))),
        new THREE.LineBasicMaterial({ color: /^#[0-9a-f]{6}$/i.test(m.color ?? '') ? m.color : '#ff3b30', depthTest: false, transparent: true }));
      line.renderOrder = 15;
      line.frustumCulled = false;
      line.raycast = () => {};
      line.userData.markupId = m.id;
      this.group.add(line);
      this.items.set(m.id, { line, record: m });
    }
    for (const [id, it] of this.items) {
      if (seen.has(id)) continue;
      it.line.removeFromParent();
      it.line.geometry.dispose();
      it.line.material.dispose();
      this.items.delete(id);
    }
  }

  describe() {
    return [...this.items.values()].map(({ record: m }) => ({ id: m.id, points: m.points.length, color: m.color, author: m.author ?? null, annotation_id: m.annotation_id ?? null }));
  }
}
