// What the trigger does in VR, by the tool picked on the wrist menu: pin (the two-pull issue
// draft), measure (the desktop MeasureTool and its kinds: distance and perpendicular take two
// pulls, angle three, area one on a face; the ray's angle is its snap distance), markup (a
// freehand stroke while the trigger is held), erase (the markup nearest the ray; the server checks
// the rights), section (our own plane at the pointed face), teleport. Also the menu's thread view
// and its comment composer.
import * as THREE from 'three';
import { MeasureTool } from '../tools/measure.js';
import { markupRecord, MAX_MARKUP_POINTS } from '../tools/markup.js';
import { annotationList } from '../state/room.js';
import { newId } from '../state/codec.js';
import { WristMenu, XR_MEASURE_KINDS } from './menu.js';
import { Stroke } from './stroke.js';

/** Measure snapping in VR: one desktop "pixel" of SNAP_PX is this many milliradians off the ray. */
export const MRAD_PER_PX = 1.5;
/** A section placed on a face cuts this far (metres) behind it, so one sees into the element. */
const SECTION_DEPTH = 0.01;
/** Strokes float this far (fraction of the controller distance) off the surface, toward the hand. */
const LIFT = 0.004;
/** Erase picks the markup with a point at most this far off the ray (milliradians, about 3.4°). */
export const ERASE_MRAD = 60;

export class XRTools {
  /** @param {object} deps {viewer, model, conn, tools, issues, xrDraft, own, apply(), sectionCtl,
   *   color() -> '#rrggbb', nameOf(userId), teleport(point)} */
  constructor(deps) {
    Object.assign(this, deps);
    this.tool = 'pin';
    this.aim = null; // the ray the measure tool snaps against: {origin, dir}
    this.measure = new MeasureTool({
      viewer: deps.viewer, model: deps.model,
      send: (k, f) => deps.tools.send(k, f),
      toScreen: (v) => this._angle(v),
    });
    this.stroke = null;
    this.preview = new THREE.Line(new THREE.BufferGeometry(), new THREE.LineBasicMaterial({ depthTest: false, transparent: true }));
    this.preview.renderOrder = 16;
    this.preview.frustumCulled = false;
    this.preview.raycast = () => {};
    this.preview.visible = false;
    deps.viewer.scene.add(this.preview);
    this.draft = '';
    this.recognition = null;
    this.posted = 0;
    this.notice = null; // a one-off hint (an erase's outcome) until the next tool or pull
    this.erasing = new Map(); // op id -> markup id of our recent erases, for a refusal's reason
    this.menu = new WristMenu({
      onTool: (id) => this.setTool(id),
      onQuick: (text) => { this.draft = text; this.refresh(); },
      onAction: (id) => this.action(id),
    });
    this.menu.update({ dictation: Boolean(globalThis.SpeechRecognition ?? globalThis.webkitSpeechRecognition) });
    deps.bus.on('state', () => this.refresh());
    deps.conn.on('reject', (m) => {
      if (!this.erasing.delete(m.op_id)) return;
      this.notice = `Not erased: ${m.reason ?? m.code}`;
      this.refresh();
    });
  }

  setTool(id) {
    this.tool = id;
    this.measure.reset();
    this.stroke = null;
    this.preview.visible = false;
    this.notice = null;
    if (id !== 'pin') this.xrDraft.cancel();
    this.refresh();
  }

  /** The next measure kind (distance -> perpendicular -> angle -> area -> distance). */
  cycleKind() {
    const ids = XR_MEASURE_KINDS.map(([k]) => k);
    this.measure.kind = ids[(ids.indexOf(this.measure.kind) + 1) % ids.length];
    this.measure.reset();
    if (this.tool !== 'measure') this.setTool('measure');
  }

  /** A trigger pull on the model with controller `c` (its ray and hit). */
  trigger(hit, c) {
    const { origin, dir } = c.rayNow();
    this.aim = { origin, dir };
    this.notice = null;
    if (this.tool === 'pin') this.issues.draftXR(hit);
    else if (this.tool === 'measure') this.measure.click(hit, [0, 0]);
    else if (this.tool === 'markup') {
      this.stroke = { c, line: new Stroke(MAX_MARKUP_POINTS) };
      this._sample(hit, origin);
    } else if (this.tool === 'erase') this.erase(origin, dir);
    else if (this.tool === 'section') this._section(hit);
    else if (this.tool === 'teleport') this.teleport(hit.point);
    this.refresh();
    this.viewer.invalidate();
  }

  /** The trigger of `c` was released: a stroke ends and becomes a markup. */
  release(c) {
    if (!this.stroke || this.stroke.c !== c) return null;
    const pts = this.stroke.line.finish();
    this.stroke = null;
    this.preview.visible = false;
    if (!pts) return null;
    const topic = this.issues.panel.selected ?? null;
    const rec = markupRecord(pts.map((p) => this.model.toModel(new THREE.Vector3(...p))), this.color(), topic);
    return this.tools.send('markup.create', { markup: rec }) ? rec : null;
  }

  /** Every XR frame, for each controller: the held stroke follows its ray. */
  frame(c) {
    if (this.stroke?.c !== c || !c.hit) return;
    this._sample(c.hit, c.rayNow().origin);
  }

  _sample(hit, origin) {
    const p = hit.point.clone().lerp(origin, LIFT);
    if (!this.stroke.line.add(p.toArray(), hit.distance)) return;
    const pts = this.stroke.line.points.map((q) => new THREE.Vector3(...q));
    this.preview.geometry.dispose();
    this.preview.geometry = new THREE.BufferGeometry().setFromPoints(pts);
    this.preview.material.color.set(this.color());
    this.preview.visible = pts.length >= 2;
  }

  /** The markup with a point nearest the ray (world origin, dir), within ERASE_MRAD, or null. */
  markupNear(origin, dir) {
    let best = null;
    let d0 = ERASE_MRAD / 1000;
    for (const m of Object.values(this.conn.mirror.view.markups ?? {})) {
      for (const p of m.points ?? []) {
        const v = this.model.fromModel(p).sub(origin);
        if (v.lengthSq() === 0 || v.dot(dir) <= 0) continue;
        const a = v.angleTo(dir);
        if (a <= d0) {
          d0 = a;
          best = m;
        }
      }
    }
    return best;
  }

  /** Erase the markup the ray points at: sends markup.delete (the server checks the rights:
   * one's own as reviewer, anyone's as editor); a refusal shows its reason on the menu. */
  erase(origin, dir) {
    const m = this.markupNear(origin, dir);
    if (!m) {
      this.notice = 'No markup there';
      return null;
    }
    const op = this.tools.send('markup.delete', { id: m.id });
    if (!op) {
      this.notice = `Your role (${this.conn.role}) cannot erase`;
      return null;
    }
    // Keyed by op id until a reject names it (the erase applies locally at once); the last few.
    this.erasing.set(op.op_id, m.id);
    if (this.erasing.size > 32) this.erasing.delete(this.erasing.keys().next().value);
    this.notice = 'Erased';
    return op;
  }

  /** Angle of `v` off the aimed ray, in measure-snap "pixels". */
  _angle(v) {
    if (!this.aim) return [Infinity, 0];
    const d = v.clone().sub(this.aim.origin);
    const n = d.length();
    if (n === 0) return [0, 0];
    return [(d.angleTo(this.aim.dir) * 1000) / MRAD_PER_PX, 0];
  }

  /** Our own section plane at the pointed face, its normal snapped to the nearest model axis. */
  _section(hit) {
    const n = this.model.toModel(hit.normal, true);
    const i = [0, 1, 2].reduce((a, b) => (Math.abs(n[b]) > Math.abs(n[a]) ? b : a), 0);
    const normal = [0, 0, 0];
    normal[i] = Math.sign(n[i]) || 1;
    const p = this.model.toModel(hit.point);
    const s = { normal, offset: p[i] * normal[i] - SECTION_DEPTH, enabled: true };
    this.own.setSection(s);
    this.apply();
    this.sectionCtl.show(s);
  }

  action(id) {
    if (id === 'section-off') {
      const cur = this.own.section;
      if (cur) this.own.setSection({ ...cur, enabled: false });
      this.apply();
      this.sectionCtl.show(null);
    } else if (id === 'prev' || id === 'next') this._step(id === 'next' ? 1 : -1);
    else if (id === 'kind') this.cycleKind();
    else if (id === 'clear') this.draft = '';
    else if (id === 'post') this.post();
    else if (id === 'dictate') this._dictate();
    this.refresh();
  }

  /** Select the previous / next issue of the room (the thread the menu shows). */
  _step(delta) {
    const list = annotationList(this.conn.mirror.view);
    if (!list.length) return;
    const at = list.findIndex((a) => a.id === this.issues.panel.selected);
    const next = list[(at < 0 ? (delta > 0 ? 0 : list.length - 1) : (at + delta + list.length) % list.length)];
    this.issues.panel.select(next.id, false);
    this.issues.syncPins(next.id);
  }

  /** Post the composed comment to the selected issue; returns the op id or null. */
  post() {
    const id = this.issues.panel.selected;
    const text = this.draft.trim();
    if (!id || !text) {
      this.menu.update({ hint: id ? 'Pick a comment first' : 'Select an issue first' });
      return null;
    }
    const op = this.tools.send('comment.add', { annotation_id: id, comment: { id: newId('c'), text: text.slice(0, 500) } });
    if (op) {
      this.draft = '';
      this.posted += 1;
    }
    return op;
  }

  /** Dictation into the comment, where the browser has speech recognition. */
  _dictate() {
    const SR = globalThis.SpeechRecognition ?? globalThis.webkitSpeechRecognition;
    if (!SR || this.recognition) return;
    try {
      const r = new SR();
      r.lang = navigator.language || 'en-US';
      r.interimResults = false;
      r.onresult = (e) => {
        this.draft = Array.from(e.results).map((x) => x[0]?.transcript ?? '').join(' ').trim().slice(0, 500);
        this.refresh();
      };
      r.onend = () => { this.recognition = null; this.refresh(); };
      r.start();
      this.recognition = r;
    } catch {
      this.recognition = null;
    }
  }

  /** What the menu shows: the tool, a hint, the selected issue's thread, the comment. */
  refresh() {
    const view = this.conn.mirror.view;
    const a = view.annotations?.[this.issues.panel.selected] ?? null;
    const thread = a ? {
      title: a.title || 'Untitled issue',
      comments: (a.comments ?? []).map((c) => ({ name: this.nameOf(c.author), text: c.text })),
    } : null;
    this.menu.update({ tool: this.tool, kind: this.measure.kind, hint: this._hint(), thread, draft: this.draft, listening: Boolean(this.recognition) });
  }

  _hint() {
    if (this.tool === 'pin') return this.xrDraft.draft ? 'Pull again on the spot' : 'Pull on the model';
    if (this.tool === 'measure') return this._measureHint();
    if (this.tool === 'markup') return 'Hold the trigger to draw';
    if (this.tool === 'erase') return this.notice ?? 'Pull on a markup to erase';
    if (this.tool === 'section') return 'Pull on a face to cut';
    return 'Pull where to stand';
  }

  _measureHint() {
    const { kind, start, corner } = this.measure;
    if (kind === 'area') return 'Area: pull on a face';
    if (kind === 'perpendicular') return start ? 'Pull on the face' : 'Perpendicular: pull on the point';
    if (kind === 'angle') return !start ? 'Angle: pull on the 1st point' : corner ? 'Pull on the 3rd point' : 'Pull on the corner';
    return start ? 'Pull on the 2nd point' : 'Pull on the 1st point';
  }

  describe() {
    return {
      tool: this.tool,
      measure_kind: this.measure.kind,
      corner: this.measure.corner ? this.model.toModel(this.measure.corner.point) : null,
      notice: this.notice,
      measuring: this.measure.start ? this.model.toModel(this.measure.start.point) : null,
      snap: this.measure.lastSnap ? { kind: this.measure.lastSnap.kind, point: this.model.toModel(this.measure.lastSnap.point) } : null,
      stroke: this.stroke ? this.stroke.line.points.length : null,
      posted: this.posted,
      menu: this.menu.describe(),
    };
  }
}
