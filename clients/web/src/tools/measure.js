// Measurement: point to point (snapping to the picked triangle's vertices, edge midpoints, edges
// and face) or a point's perpendicular distance to a picked face, drawn for everyone from the
// room's `measurement` records (model space, metres; a perpendicular is sent as the point and its
// foot on the face's plane).
import * as THREE from 'three';
import { textSprite, disposeSprite } from '../viewer/labels.js';
import { newId } from '../state/codec.js';

/** Snap radii in CSS pixels: vertices first, then edge midpoints, then edges. */
export const SNAP_PX = { vertex: 12, midpoint: 10, edge: 7 };

/**
 * The matrix taking the hit geometry's stored positions to world space: the object's world
 * matrix, times the hit instance's matrix on an InstancedMesh (EXT_mesh_gpu_instancing: the
 * copy's placement) or a BatchedMesh (the batch item's). Stored positions may be quantised
 * (KHR_mesh_quantization: the node, or the instance, dequantises), so they are never world
 * coordinates on their own.
 */
export function hitMatrix(hit) {
  const obj = hit.object;
  obj.updateWorldMatrix(true, false);
  const m = obj.matrixWorld.clone();
  const inst = new THREE.Matrix4();
  if (obj.isInstancedMesh && Number.isInteger(hit.instanceId)) {
    obj.getMatrixAt(hit.instanceId, inst);
    m.multiply(inst);
  } else if (obj.isBatchedMesh && Number.isInteger(hit.batchId)) {
    obj.getMatrixAt(hit.batchId, inst);
    m.multiply(inst);
  }
  return m;
}

/** World-space corners of the hit triangle, or null (no face data). */
export function hitTriangle(hit) {
  const geo = hit?.object?.geometry;
  const pos = geo?.attributes?.position;
  if (!hit?.face || !pos) return null;
  const m = hitMatrix(hit);
  return [hit.face.a, hit.face.b, hit.face.c].map((i) => new THREE.Vector3().fromBufferAttribute(pos, i).applyMatrix4(m));
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

/**
 * The planar face under a hit: the triangles of the hit mesh (of the same element, on tiled
 * batches) that lie in the hit triangle's plane and connect to it through shared corners.
 * Returns {area (m², world), centroid, normal (world), triangles} or null.
 */
export function planarFace(hit, { maxTriangles = 200000 } = {}) {
  const geo = hit?.object?.geometry;
  const pos = geo?.attributes?.position;
  if (!hit?.face || !pos) return null;
  const index = geo.index ? geo.index.array : null;
  const n = index ? index.length : pos.count;
  if (n / 3 > maxTriangles) return null;
  const m = hitMatrix(hit);
  const elements = hit.object.userData?.vertexElements ?? null;
  const element = elements ? elements[hit.face.a] : null;
  const corner = (i) => new THREE.Vector3().fromBufferAttribute(pos, i).applyMatrix4(m);
  const seed = [hit.face.a, hit.face.b, hit.face.c].map(corner);
  const plane = new THREE.Plane().setFromCoplanarPoints(seed[0], seed[1], seed[2]);
  if (plane.normal.lengthSq() < 0.5) return null;
  const key = (v) => `${Math.round(v.x * 1e4)},${Math.round(v.y * 1e4)},${Math.round(v.z * 1e4)}`;
  // Candidate triangles: in the plane (1 mm), same facing, same element.
  const cand = [];
  const tn = new THREE.Vector3();
  const tri = new THREE.Triangle();
  for (let t = 0; t + 2 < n; t += 3) {
    const ia = index ? index[t] : t;
    if (elements && elements[ia] !== element) continue;
    const a = corner(ia);
    const b = corner(index ? index[t + 1] : t + 1);
    const c = corner(index ? index[t + 2] : t + 2);
    if (Math.abs(plane.distanceToPoint(a)) > 1e-3 || Math.abs(plane.distanceToPoint(b)) > 1e-3 || Math.abs(plane.distanceToPoint(c)) > 1e-3) continue;
    tri.set(a, b, c).getNormal(tn);
    if (tn.dot(plane.normal) < 0.999) continue;
    cand.push({ t, pts: [a, b, c], keys: [key(a), key(b), key(c)] });
  }
  // Connected to the hit triangle through shared corners.
  const byCorner = new Map();
  cand.forEach((c, i) => { for (const k of c.keys) { if (!byCorner.has(k)) byCorner.set(k, []); byCorner.get(k).push(i); } });
  const start = cand.findIndex((c) => c.keys.join() === seed.map(key).join()
    || (c.keys.includes(key(seed[0])) && c.keys.includes(key(seed[1])) && c.keys.includes(key(seed[2]))));
  if (start < 0) return null;
  const seen = new Set([start]);
  const queue = [start];
  let area = 0;
  const centroid = new THREE.Vector3();
  while (queue.length) {
    const c = cand[queue.pop()];
    const a = tri.set(...c.pts).getArea();
    area += a;
    centroid.addScaledVector(c.pts[0].clone().add(c.pts[1]).add(c.pts[2]).multiplyScalar(1 / 3), a);
    for (const k of c.keys) for (const j of byCorner.get(k)) if (!seen.has(j)) { seen.add(j); queue.push(j); }
  }
  if (area <= 0) return null;
  return { area, centroid: centroid.multiplyScalar(1 / area), normal: plane.normal.clone(), triangles: seen.size };
}

/** The angle at b between b->a and b->c, in degrees. */
export function angleAt(a, b, c) {
  const u = new THREE.Vector3(...a).sub(new THREE.Vector3(...b));
  const v = new THREE.Vector3(...c).sub(new THREE.Vector3(...b));
  if (u.lengthSq() === 0 || v.lengthSq() === 0) return NaN;
  return THREE.MathUtils.radToDeg(u.angleTo(v));
}

/** What the measure tool measures: label for the picker. */
export const MEASURE_KINDS = {
  distance: 'Distance (point to point)',
  perpendicular: 'Perpendicular (point to face)',
  angle: 'Angle (three points, the corner second)',
  area: 'Area (click a face)',
};

/** A record's value and label: metres (distance, perpendicular), degrees (angle), m² (area). */
export function measurementValue(m) {
  if (m.kind === 'angle' && Array.isArray(m.c)) {
    const deg = angleAt(m.a, m.b, m.c);
    return { value: deg, text: Number.isFinite(deg) ? `${deg.toFixed(1)}°` : '—' };
  }
  if (m.kind === 'area') {
    const k = (UNIT_M[m.unit] ?? 1) ** 2;
    const v = Number(m.value) * k;
    return { value: v, text: Number.isFinite(v) ? `${v.toFixed(3)} m²` : '—' };
  }
  const len = measurementLength(m);
  return { value: len, text: formatLength(len) };
}

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
    this.corner = null;
    this.marker.visible = false;
    this.app.viewer.invalidate();
  }

  /** Pointer over the model: show where a click would snap. */
  hover(hit, at) {
    if (!hit) {
      this.marker.visible = false;
      return null;
    }
    const snap = this.kind === 'area' ? { point: hit.point.clone(), kind: 'face' }
      : this._second() ? this._foot(hit) : snapHit(hit, (v) => this.app.toScreen(v), at, (v) => this._drawn(v));
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

  /** A click: returns the sent measurement record, or null while waiting for more points. */
  click(hit, at) {
    if (!hit) return null;
    const round = (v) => v.map((x) => Math.round(x * 1e6) / 1e6);
    const toModel = (p) => round(this.app.model.toModel(p));
    if (this.kind === 'area') {
      const face = planarFace(hit);
      if (!face) return null;
      this.lastSnap = { point: face.centroid, kind: 'face' };
      const a = toModel(face.centroid);
      const b = toModel(face.centroid.clone().addScaledVector(face.normal, 0.001));
      return this._send({ id: newId('m'), a, b, unit: 'm', kind: 'area', value: Math.round(face.area * 1e6) / 1e6 });
    }
    const snap = this._second() ? this._foot(hit) : snapHit(hit, (v) => this.app.toScreen(v), at, (v) => this._drawn(v));
    if (!snap) return null;
    this.lastSnap = snap;
    if (!this.start) {
      this.start = snap;
      this._mark(snap.point);
      return null;
    }
    if (this.kind === 'angle' && !this.corner) {
      this.corner = snap;
      this._mark(snap.point);
      return null;
    }
    if (this.kind === 'angle') {
      const record = { id: newId('m'), a: toModel(this.start.point), b: toModel(this.corner.point), c: toModel(snap.point), unit: 'm', kind: 'angle' };
      this.reset();
      return this._send(record);
    }
    // A perpendicular is a distance record (the point and its foot): nothing new on the wire.
    const record = { id: newId('m'), a: toModel(this.start.point), b: toModel(snap.point), unit: 'm' };
    this.reset();
    return this._send(record);
  }

  /** What the next click does, for the toast after a click that did not finish a measurement. */
  prompt() {
    if (this.kind === 'perpendicular') return 'Now click the face to measure to (Esc cancels).';
    if (this.kind === 'angle') return this.corner ? 'Now click the third point (Esc cancels).' : 'Now click the corner of the angle (Esc cancels).';
    return 'Now click the second point (Esc cancels).';
  }

  _send(record) {
    this.start = null;
    this.corner = null;
    this.marker.visible = false;
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
      const c = Array.isArray(m.c) ? new THREE.Vector3(...m.c).multiplyScalar(k) : null;
      const { value, text } = measurementValue(m);
      const pts = m.kind === 'angle' && c ? [a, b, c] : m.kind === 'area' ? [a, a] : [a, b];
      const line = new THREE.Line(new THREE.BufferGeometry().setFromPoints(pts), this.lineMat);
      line.renderOrder = 15;
      line.frustumCulled = false;
      const label = textSprite(text, { color: '#ffd24a' });
      if (m.kind === 'angle' || m.kind === 'area') label.position.copy(m.kind === 'angle' ? b : a);
      else label.position.copy(a).add(b).multiplyScalar(0.5);
      this.group.add(line, label);
      this.items.set(m.id, { line, label, kind: m.kind ?? 'distance', value, text, length: measurementLength(m) });
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
    return [...this.items.entries()].map(([id, it]) => ({ id, kind: it.kind, value: it.value, length: it.length, label: it.text }));
  }
}
