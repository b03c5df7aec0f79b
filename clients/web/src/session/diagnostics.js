// Diagnostics: the read-only snapshot tests and support read (window.__vrcollab.info()), and
// the probes tests use (what is at the centre of the view, the triangle under a page point).
// A feature adds its own section with `add(name, () => value)`.
import * as THREE from 'three';
import { annotationList } from '../state/room.js';
import { hitTriangle } from '../tools/measure.js';
import { ndcAt } from './frames.js';

export class Diagnostics {
  /** @param {App} app the session (read only) */
  constructor(app) {
    this.app = app;
    this.sections = new Map();
  }

  /** Add `name: fn()` to info() (a feature's own state). */
  add(name, fn) {
    this.sections.set(name, fn);
  }

  /** The triangle under a page point: its corners in world and model space, the picked point
   * (world), the part, and the instance of an instanced mesh (else null). */
  faceAt([x, y]) {
    const { model, viewer } = this.app;
    const hit = model.pickPrecise(ndcAt(viewer, [x, y]));
    const tri = hit && hitTriangle(hit);
    if (!tri) return null;
    return {
      part: hit.part ?? null, world: tri.map((v) => v.toArray()), model: tri.map((v) => model.toModel(v)),
      point: hit.point.toArray(), instance: Number.isInteger(hit.instanceId) ? hit.instanceId : null,
    };
  }

  /** The first thing on the ray through the centre of the view: a (visible) avatar or the model. */
  centerHit() {
    const { model, viewer, avatars } = this.app;
    const rc = new THREE.Raycaster();
    rc.setFromCamera(new THREE.Vector2(0, 0), viewer.camera);
    const shown = (o) => { for (let x = o; x; x = x.parent) if (!x.visible) return false; return true; };
    const avatar = rc.intersectObject(avatars.group, true).find((h) => h.object.isMesh && shown(h.object));
    const hit = model.pickPrecise(new THREE.Vector2(0, 0));
    const md = hit ? hit.point.distanceTo(rc.ray.origin) : Infinity;
    if (avatar && avatar.distance < md) return { first: 'avatar', distance: avatar.distance };
    const cls = hit?.part ? model.partInfo(hit.part)?.ifc_class ?? null : null;
    return hit ? { first: 'model', distance: md, part: hit.part ?? null, ifc_class: cls } : { first: null };
  }

  /** Read-only snapshot for tests and diagnostics. Positions are model space, like poses. */
  info() {
    const a = this.app;
    const c = a.conn;
    const { viewer, model } = a;
    const out = {
      state: c.state, role: c.welcome ? c.role : null, session_id: c.sessionId, seq: c.mirror.seq,
      user_id: c.welcome?.user?.user_id ?? null,
      pending: c.outbox.size, stats: { ...c.stats }, last_error: c.lastError,
      participants: [...c.participants.values()],
      annotations: annotationList(c.mirror.view), nodes: c.mirror.view.nodes,
      sections: c.mirror.view.sections, presenter: c.mirror.view.presenter,
      model: model.summary(), model_error: a.models.error,
      scene: {
        ...viewer.stats, rendered: viewer.rendered, xr: a.xr.mode,
        flying: Boolean(viewer.flight), clipping: viewer.renderer.clippingPlanes.length,
        grabbing: Boolean(a.xr.grab),
        background: viewer.scene.background ? `#${viewer.scene.background.getHexString()}` : null,
      },
      avatars: a.avatars.describe(), timings: { ...a.timings },
      xr_support: a.xrSession.support,
      world: model.bounds ? {
        center: model.bounds.getCenter(new THREE.Vector3()).toArray(),
        size: model.bounds.getSize(new THREE.Vector3()).toArray(),
        rig: viewer.rig.position.toArray(),
      } : null,
      camera: viewer.camera.getWorldPosition(new THREE.Vector3()).toArray(),
      following: a.follow.following,
      own_view: a.own.describe(),
      measurements: a.measurements.describe(),
      snapshots: { ...a.issues.snapshots },
      measure: a.measure.lastSnap ? {
        kind: a.measure.lastSnap.kind, point: model.toModel(a.measure.lastSnap.point), started: Boolean(a.measure.start),
        measuring: a.measure.kind,
      } : null,
      view_link: a.ownView.lastLink,
      color_legend: a.colorBy.legend,
      xr_draft: a.xrDraft.draft ? { ...a.xrDraft.describe(), point: model.toModel(a.xrDraft.draft.point) } : null,
      members: a.roster.members,
      selected: a.selection.part,
      tool: a.tools.mode,
    };
    for (const [name, fn] of this.sections) out[name] = fn();
    return out;
  }
}
