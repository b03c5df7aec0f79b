// Our own view state, drawn over the room's durable state: hide, isolate, show all, "show my
// view to everyone" (R23), a view someone showed us, saved-view links, opening at a `?view=`.
import { viewpoint as makeViewpoint } from '../state/codec.js';
import { viewLink } from '../tools/viewlink.js';
import { toast } from '../ui/dom.js';
import { vpToModel, vpToWorld } from './frames.js';

export class OwnViewControl {
  /**
   * @param {object} deps {conn, viewer, model, own (OwnView), section (SectionView), tools,
   *   selection, isDragging() -> part|null, isFollowing() -> bool,
   *   onReplaced(section|null): our view was replaced (show or drop the section controls)}
   */
  constructor(deps) {
    Object.assign(this, deps);
    this.lastLink = null;
    this.overlays = [];
    this.tools.register('hide', () => this.hideSelected());
    this.tools.register('isolate', () => this.toggleIsolate());
    this.tools.register('showall', () => this.showAll());
    this.tools.register('share', () => this.share());
    this.tools.register('link', () => this.copyLink());
  }

  /** Draw the room's durable state with our own view (hidden, isolated, section) on top. */
  apply(view = this.conn.mirror.view) {
    const { model } = this;
    // model.isolated is the local isolation the node state is drawn with; an overlay's (compare:
    // only the changes) replaces ours while it is on.
    let isolated = this.own.isolated ? [...this.own.isolated] : null;
    for (const o of this.overlays) {
      const iso = o.isolation?.();
      if (iso) isolated = [...iso];
    }
    // The tiled path draws isolation through its element-state texture: go through isolate().
    if (model.tiled) model.isolate(isolated);
    else model.isolated = isolated ? new Set(isolated) : null;
    let nodes = this.own.nodes(view.nodes);
    for (const o of this.overlays) {
      const colors = o.colors?.();
      if (!colors?.size) continue;
      nodes = { ...nodes };
      for (const [id, color] of colors) nodes[id] = { ...(nodes[id] ?? {}), color };
    }
    model.setNodeState(nodes, { skip: this.isDragging() });
    this.section.apply(this.own.sections(view.sections), this.own.box);
    this.tools.toolbar.setActive('section', Boolean(this.section.current));
    this.tools.toolbar.setActive('isolate', Boolean(this.own.isolated));
    // (model and section draw again themselves when what they show changed)
  }

  /** Draw a layer over our own view: {colors() -> Map(node, '#rrggbb'), isolation() -> Set|null}
   * (compare versions). Never shared. */
  addOverlay(overlay) {
    this.overlays.push(overlay);
  }

  /** The current camera as a model-space viewpoint record. */
  cameraRecord() {
    return makeViewpoint(vpToModel(this.model, this.viewer.viewpoint()));
  }

  hideSelected() {
    const part = this.selection.part;
    if (!part) {
      toast('Select a part first.');
      return;
    }
    this.own.hide(part);
    this.selection.select(null);
    this.apply();
    toast('Hidden for you only. “Show my view to everyone” shares it.');
  }

  toggleIsolate() {
    if (this.own.isolated) this.own.isolate(null);
    else if (this.selection.part) this.own.isolate([this.selection.part]);
    else toast('Select a part first.');
    this.apply();
  }

  /** Clear our own view; editors also bring back what was hidden for the whole room. */
  showAll() {
    this.own.clear();
    this.onReplaced(null);
    this.apply();
    const roomHidden = Object.entries(this.conn.mirror.view.nodes).filter(([, st]) => st.visible === false);
    if (roomHidden.length && this.tools.can('node.set')) {
      for (const [node] of roomHidden) this.tools.send('node.set', { node_id: node, props: { visible: true } });
    }
  }

  /** "Show my view to everyone": editors write it into the room (node.set, section.set, durable);
   * editors and the presenter also send the ephemeral `view` command (R23) so the others take over
   * isolation and camera. Anyone else is told why not. */
  share() {
    const editor = this.tools.can('node.set');
    if (!editor && !this.tools.presenting) {
      toast('Only editors or the presenter can show their view to everyone: press Present first.');
      return;
    }
    const wire = this.own.toWire(this.cameraRecord());
    if (editor) {
      const room = this.conn.mirror.view;
      for (const id of this.own.hidden) {
        if (room.nodes[id]?.visible !== false) this.tools.send('node.set', { node_id: id, props: { visible: false } });
      }
      if (this.own.section) this.tools.send('section.set', { section: { id: 'main', ...this.own.section } });
      else for (const s of Object.values(room.sections)) if (s.enabled) this.tools.send('section.set', { section: { ...s, enabled: false } });
    }
    if (this.conn.command('view', { view: wire })) toast('Everyone now sees your view.');
  }

  /** A view (shared with us, or a saved one) replaces our own; the camera flies there unless
   * we follow someone. The section control shows when it has a section (`showSection`). */
  adoptView(view, { showSection = true } = {}) {
    this.own.adopt(view);
    this.onReplaced(showSection ? this.own.section : null);
    this.apply();
    const cam = view?.camera;
    if (cam && !this.isFollowing()) this.viewer.flyTo(vpToWorld(this.model, cam));
  }

  /** Someone (editor or presenter) showed us their view (R23): it replaces our own. */
  onShared(m) {
    this.adoptView(m.view, { showSection: false });
    const who = this.conn.participants.get(m.from)?.name ?? 'A participant';
    toast(`${who} showed you their view. “Show all” returns to the whole model.`);
  }

  /** A link to our own view (camera, section, hidden, isolated): copied, and kept for tests. */
  async copyLink() {
    this.lastLink = viewLink(this.conn.roomId, this.own.toWire(this.cameraRecord()));
    try {
      await navigator.clipboard.writeText(this.lastLink);
      toast('Link to this view copied.');
    } catch {
      toast('Copy this link to share the view (the clipboard is not available here).');
    }
    return this.lastLink;
  }

  /** Open at a saved view (a `?view=` link): it becomes our own view, the camera goes there. */
  openAt(view) {
    this.own.adopt(view);
    this.apply();
    this.onReplaced(this.own.section);
    if (view.camera) {
      const w = vpToWorld(this.model, view.camera);
      this.viewer.camera.position.fromArray(w.position);
      this.viewer.controls.target.fromArray(w.target);
      this.viewer.controls.update();
    }
    this.viewer.invalidate();
  }
}
