// Issues in the room: the issue panel and the pins, creating one at a hit (desktop click, or a
// confirmed VR draft), its snapshot, flying to one.
import { newAnnotation } from '../state/codec.js';
import { annotationList } from '../state/room.js';
import { lockReasons } from '../tools/people.js';
import { captureViewer, uploadSnapshot } from '../tools/snapshot.js';
import { toast } from '../ui/dom.js';
import * as hud from '../ui/hud.js';
import { vpToWorld } from './frames.js';

export class Issues {
  /** @param {object} deps {cfg, conn, viewer, model, tools, panel (AnnotationPanel), pins,
   *   xrDraft (XRIssueDraft), avatars, cameraRecord() -> model-space viewpoint, bus} */
  constructor(deps) {
    Object.assign(this, deps);
    this.snapshots = { taken: 0, stored: 0 };
    deps.bus.on('state', (view) => {
      this.panel.render(view);
      this.pins.sync(annotationList(view), this.panel.selected);
    });
  }

  /** Show the pins with `id` selected (null: the panel's selection). */
  syncPins(id = this.panel.selected) {
    this.pins.sync(annotationList(this.conn.mirror.view), id);
  }

  /** A pin was clicked: select its issue. */
  selectPin(id) {
    this.panel.select(id);
    this.syncPins(id);
  }

  /** Desktop click in annotate mode: ask for a title and text at the click, then create. */
  async composeAt(hit, e) {
    const draft = await hud.compose(e.clientX, e.clientY);
    if (draft) this.annotateAt(hit, draft);
  }

  /** annotation.create at a hit point with the current viewpoint (desktop click or VR trigger). */
  annotateAt(hit, { title = '', text = '', priority = 'normal' } = {}) {
    if (!this.tools.can('annotation.create')) return null;
    const info = hit.part ? this.model.partInfo(hit.part) : null;
    const a = newAnnotation({
      position: this.model.toModel(hit.point), normal: this.model.toModel(hit.normal, true),
      nodeId: hit.part ?? null, elementId: info?.element_id ?? null,
      view: this.cameraRecord(), title, text, priority,
    });
    if (!this.tools.send('annotation.create', { annotation: a })) return null;
    // An immersive session's frames are not on the page canvas: no snapshot from VR (retake later).
    if (!this.viewer.renderer.xr.isPresenting) this.takeSnapshot(a.id);
    this.panel.selected = a.id;
    this.panel.render(this.conn.mirror.view);
    this.syncPins(a.id);
    return a;
  }

  /** VR trigger: draft an issue at the hit; a second pull on the draft creates it. */
  draftXR(hit) {
    if (!this.tools.can('annotation.create')) {
      toast(lockReasons(this.conn.role).annotate ?? 'Your role cannot add issues.');
      return;
    }
    const label = hit.part ? this.model.partInfo(hit.part)?.name ?? '' : '';
    this.xrDraft.scale = this.avatars.scale;
    this.xrDraft.trigger(hit, label);
    this.viewer.invalidate();
  }

  /** Store a PNG of the view as the annotation's snapshot (also "Retake" in the panel). */
  async takeSnapshot(annotationId) {
    try {
      const blob = await captureViewer(this.viewer);
      if (!blob) return null;
      this.snapshots.taken += 1;
      const ref = await uploadSnapshot(this.cfg.roomId, annotationId, blob, this.cfg.authHeader);
      if (ref) this.snapshots.stored += 1;
      return ref;
    } catch (err) {
      toast(`Could not store the snapshot: ${err.message ?? err}`);
      return null;
    }
  }

  flyTo(a) {
    if (a.viewpoint) this.viewer.flyTo(vpToWorld(this.model, a.viewpoint));
    else this.viewer.flyToPoint(this.model.fromModel(a.position));
    this.syncPins(a.id);
  }
}
