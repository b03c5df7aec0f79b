// Measurement: point to point (snapping to the picked triangle's vertices, edge midpoints, edges
// and face) or a point's perpendicular distance to a picked face, drawn for everyone from the
// room's `measurement` records (model space, metres; a perpendicular is sent as the point and its
// foot on the face's plane).
import * as THREE from 'three';
import { textSprite, disposeSprite } from '../viewer/labels.js';
import { newId } from '../state/codec.js';

/** Snap radii in CSS pixels: vertices first, then edge midpoints, then edges. */
export const SNAP_PX = { vertex: 12, midpoint: 10, edge: 7 };

/** World-space corners of the hit triangle, or null (no face data). */
export function hitTriangle(hit) {
  const geo = hit?.object?.geometry;
  const pos = geo?.attributes?.position;
  if (!hit.face || !pos) return null;
  hit.object.updateWorldMatrix(true, false);
  return [hit.face.a, hit.face.b, hit.face.c].map((i) => new THREE.Vector3().fromBufferAttribute(pos, i).applyMatrix4(hit.object.matrixWorld));
}

/**
 * The snapped point for a hit: {point (world), kind: vertex|midpoint|edge|face}.
 * `toScreen(v)` maps a world point to CSS pixels; `at` is the pointer in CSS pixels; `keep(v)`
 * refuses candidates a section plane cuts away (they are not drawn).
 */
export function snapHit(hit, toScreen, at, keep = () => true) {
  const tri = hitTriangle(hit);
  if (!tri) return { point: hit.point.clone(), kind: 'face' };
  const px = (v) => {
    const s = toScreen(v);
    return Math.hypot(s[0] - at[0], s[1] - at[1]);
  };
  const best = (points, radius) => {
    let out = null;
    let d0 = radius;
    for (const p of points) {
      if (!keep(p)) continue;
      const d = px(p);
      if (d <= d0) {
        d0 = d;
        out = p;
      }
    }
    return out;
  };
  const vertex = best(tri, SNAP_PX.vertex);
  if (vertex) return { point: vertex.clone(), kind: 'vertex' };
  const edges = [[tri[0], tri[1]], [tri[1], tri[2]], [tri[2], tri[0]]];
  const mid = best(edges.map(([a, b]) => a.clone().add(b).multiplyScalar(0.5)), SNAP_PX.midpoint);
  if (mid) return { point: mid, kind: 'midpoint' };
  const onEdge = best(edges.map(([a, b]) => new THREE.Line3(a, b).closestPointToPoint(hit.point, true, new THREE.Vector3())), SNAP_PX.edge);
  if (onEdge) return { point: onEdge, kind: 'edge' };
  return { point: hit.point.clone(), kind: 'face' };
}

/** Metres to text with millimetre precision. */
export function formatLength(m) {
  return Number.isFinite(m) ? `${m.toFixed(3)} m` : '—';
}

const UNIT_M = { m: 1, mm: 0.001, cm: 0.01, ft: 0.3048, in: 0.0254 };

/** A record's length in metres (a and b are in the record's unit). */
export function measurementLength(m) {
  const k = UNIT_M[m.unit] ?? 1;
  return Math.hypot(m.b[0] - m.a[0], m.b[1] - m.a[1], m.b[2] - m.a[2]) * k;
}

/** The foot of the perpendicular from `point` onto the plane of the hit's triangle (world), or null. */
export function footOnFace(hit, point) {
  const tri = hitTriangle(hit);
  if (!tri) return null;
  const plane = new THREE.Plane().setFromCoplanarPoints(tri[0], tri[1], tri[2]);
  if (!Number.isFinite(plane.constant) || plane.normal.lengthSq() < 0.5) return null;
  return plane.projectPoint(point, new THREE.Vector3());
}

/** What the measure tool measures: label for the picker, and what the second click picks. */
export const MEASURE_KINDS = {
  distance: 'Distance (point to point)',
  perpendicular: 'Perpendicular (point to face)',
};

/** The measure tool: first click sets A, second sets B (a point, or for `perpendicular` a face:
 * B is A's foot on its plane) and sends measurement.create. */
export class MeasureTool {
  /** @param {object} app {viewer, model, send(kind, fields), toScreen(v), modelRoot} */
  constructor(app) {
    this.app = app;
    this.kind = 'distance';
    this.start = null;
    this.marker = new THREE.Mesh(new THREE.SphereGeometry(1, 12, 8), new THREE.MeshBasicMaterial({ color: 0xffd24a, depthTest: false }));
    this.marker.renderOrder = 20;
    this.marker.visible = false;
    app.viewer.scene.add(this.marker);
    this.lastSnap = null;
  }

  reset() {
    this.start = null;
    this.marker.visible = false;
    this.app.viewer.invalidate();
  }

  /** Pointer over the model: show where a click would snap. */
  hover(hit, at) {
    if (!hit) {
      this.marker.visible = false;
      return null;
    }
    const snap = this._second() ? this._foot(hit) : snapHit(hit, (v) => this.app.toScreen(v), at, (v) => this._drawn(v));
    if (!snap) return null;
    this._mark(snap.point);
    this.lastSnap = snap;
    return snap;
  }

  /** Whether the next click picks a face for a perpendicular (A is set). */
  _second() {
    return this.kind === 'perpendicular' && Boolean(this.start);
  }

  _foot(hit) {
    const foot = footOnFace(hit, this.start.point);
    return foot ? { point: foot, kind: 'foot' } : null;
  }

  /** A click: returns the sent measurement record, or null while waiting for the second point. */
  click(hit, at) {
    if (!hit) return null;
    const snap = this._second() ? this._foot(hit) : snapHit(hit, (v) => this.app.toScreen(v), at, (v) => this._drawn(v));
    if (!snap) return null;
    this.lastSnap = snap;
    if (!this.start) {
      this.start = snap;
      this._mark(snap.point);
      return null;
    }
    const a = this.app.model.toModel(this.start.point);
    const b = this.app.model.toModel(snap.point);
    this.start = null;
    this.marker.visible = false;
    const round = (v) => v.map((x) => Math.round(x * 1e6) / 1e6);
    const record = { id: newId('m'), a: round(a), b: round(b), unit: 'm' };
    this.app.send('measurement.create', { measurement: record });
    return record;
  }

  /** False for a point the renderer's clipping planes (section) cut away. */
  _drawn(v) {
    return this.app.viewer.renderer.clippingPlanes.every((p) => p.distanceToPoint(v) >= -1e-6);
  }

  _mark(p) {
    const cam = this.app.viewer.camera.getWorldPosition(new THREE.Vector3());
    this.marker.position.copy(p);
    this.marker.scale.setScalar(Math.max(0.005, cam.distanceTo(p) * 0.006));
    this.marker.visible = true;
    this.app.viewer.invalidate();
  }
}

/** Everyone's measurements: a line, end dots and a length label each (model space). */
export class MeasurementsView {
  constructor(root) {
    this.group = new THREE.Group();
    this.group.name = 'measurements';
    root.add(this.group);
    this.items = new Map();
    this.lineMat = new THREE.LineBasicMaterial({ color: 0xffd24a, depthTest: false, transparent: true });
  }

  sync(measurements) {
    const seen = new Set();
    for (const m of Object.values(measurements ?? {})) {
      if (!Array.isArray(m.a) || !Array.isArray(m.b)) continue;
      seen.add(m.id);
      if (this.items.has(m.id)) continue;
      const k = UNIT_M[m.unit] ?? 1;
      const a = new THREE.Vector3(...m.a).multiplyScalar(k);
      const b = new THREE.Vector3(...m.b).multiplyScalar(k);
      const line = new THREE.Line(new THREE.BufferGeometry().setFromPoints([a, b]), this.lineMat);
      line.renderOrder = 15;
      line.frustumCulled = false;
      const label = textSprite(formatLength(measurementLength(m)), { color: '#ffd24a' });
      label.position.copy(a).add(b).multiplyScalar(0.5);
      this.group.add(line, label);
      this.items.set(m.id, { line, label, length: measurementLength(m) });
    }
    for (const [id, it] of this.items) {
      if (seen.has(id)) continue;
      it.line.removeFromParent();
      it.line.geometry.dispose();
      it.label.removeFromParent();
      disposeSprite(it.label);
      this.items.delete(id);
    }
  }

  describe() {
    return [...this.items.entries()].map(([id, it]) => ({ id, length: it.length, label: formatLength(it.length) }));
  }
}
