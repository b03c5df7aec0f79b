// The review session: builds the sync connection (state/), the 3D view (viewer/), the UI (ui/)
// and the session's parts (session/, one job each), and wires them. Nothing else lives here.
//
// Adding a feature (voice, meeting replay, ...): write a module with one class that takes what it
// needs from `app` (conn, viewer, model, tools, bus, diagnostics, ...), then add one line in
// `_features()` below. The class may
//   - subscribe to session events: app.bus.on('welcome' | 'state' | 'mode' | 'select' | 'level'
//     | 'unload' | 'frame', fn)   (session/bus.js lists their arguments),
//   - listen to the connection: app.conn.on('presence' | 'poses' | 'view' | ..., fn),
//   - add a toolbar action: app.tools.register(id, fn) (the button itself: ui/hud.js TOOLS),
//   - send ops and commands: app.tools.send(kind, fields) (role-checked), app.conn.command(...),
//   - report its state in window.__vrcollab.info(): app.diagnostics.add(name, () => value).
import { Connection } from './state/connection.js';
import { PoseInterpolator } from './state/interp.js';
import { Viewer } from './viewer/viewer.js';
import { ModelView } from './viewer/model.js';
import { Avatars } from './viewer/avatars.js';
import { Pins } from './viewer/pins.js';
import { SectionView } from './viewer/section.js';
import { XRControls } from './viewer/xr.js';
import { AnnotationPanel } from './ui/panel.js';
import { showNavHelp } from './ui/help.js';
import { toast } from './ui/dom.js';
import * as hud from './ui/hud.js';
import { showMeeting } from './replay/indicator.js';
import { OwnView } from './tools/viewstate.js';
import { XRIssueDraft } from './tools/xrconfirm.js';
import { MeasureTool, MeasurementsView } from './tools/measure.js';
import { snapshotUrl } from './tools/snapshot.js';
import { Bus } from './session/bus.js';
import { Tools } from './session/tools.js';
import { Selection } from './session/selection.js';
import { TransformGizmo } from './session/gizmo.js';
import { OwnViewControl } from './session/ownview.js';
import { SectionControl } from './session/sectionctl.js';
import { PointerInput } from './session/pointer.js';
import { PoseSource } from './session/pose.js';
import { FollowControl } from './session/follow.js';
import { Roster } from './session/roster.js';
import { ModelSwitcher } from './session/models.js';
import { Issues } from './session/issues.js';
import { ColorByControl } from './session/colorctl.js';
import { TreeControl } from './session/treectl.js';
import { CompareControl } from './session/comparectl.js';
import { MeasureControl } from './session/measurectl.js';
import { SectionBoxControl } from './session/sectionbox.js';
import { MarkupControl } from './session/markupctl.js';
import { SavedViews } from './session/savedviews.js';
import { XRSession } from './session/xrsession.js';
import { XRTools } from './xr/xrtools.js';
import { Diagnostics } from './session/diagnostics.js';
import { toScreen } from './session/frames.js';
import { attachVoice } from './voice/index.js';

const $ = (id) => document.getElementById(id);

export class App {
  /**
   * @param {object} cfg {roomId, wsUrl, authHeader, identity{name,color,device}, clientId,
   *                      manifestUrl (override), deviceClass (override), storage, initialView}
   */
  constructor(cfg) {
    this.cfg = cfg;
    this.t0 = performance.now();
    this.timings = { app_start_ms: this.t0 }; // performance.now() origin of the other timings
    const bus = (this.bus = new Bus());

    // ---- core: connection, 3D view, our own view state -------------------------------------
    this.conn = new Connection({
      url: cfg.wsUrl, roomId: cfg.roomId, clientId: cfg.clientId, identity: cfg.identity, storage: cfg.storage,
    });
    this.viewer = new Viewer($('viewport'), { quality: cfg.quality });
    this.model = new ModelView(this.viewer, { authHeader: cfg.authHeader, batching: cfg.batching ?? true });
    // Pins, avatars and measurements live under the model root: their coordinates are model space.
    this.avatars = new Avatars(this.model.root);
    this.pins = new Pins(this.model.root);
    this.sectionView = new SectionView(this.viewer, this.model.root);
    this.measurements = new MeasurementsView(this.model.root);
    this.interp = new PoseInterpolator();
    this.own = new OwnView(); // hide / isolate / section / colours for ourselves only
    const { conn, viewer, model, own } = this;

    // ---- session parts ----------------------------------------------------------------------
    this.tools = new Tools({ conn, bus, root: $('toolbar') });
    const { tools } = this;
    this.selection = new Selection({ conn, model, bus });
    this.gizmo = new TransformGizmo({ viewer, model, tools, selection: this.selection, bus });
    this.ownView = new OwnViewControl({
      conn, viewer, model, own, section: this.sectionView, tools, selection: this.selection,
      isDragging: () => this.gizmo.dragging,
      isFollowing: () => Boolean(this.follow.following),
      onReplaced: (s) => {
        this.sectionCtl.show(s);
        this.sectionBox.refresh();
      },
    });
    const apply = () => this.ownView.apply();
    this.sectionCtl = new SectionControl({ viewer, model, own, section: this.sectionView, tools, apply });
    this.colorBy = new ColorByControl({ model, own, tools, apply });
    this.sectionBox = new SectionBoxControl({ viewer, model, own, section: this.sectionView, tools, selection: this.selection, apply });
    this.follow = new FollowControl({ conn, viewer, model, avatars: this.avatars, tools, bus, onChange: () => this.roster.sync() });
    this.roster = new Roster({
      conn, viewer, avatars: this.avatars, interp: this.interp, bus, cfg,
      following: () => this.follow.following,
      onFollow: (sid) => this.follow.follow(sid),
      onMembers: () => this.issues.panel.render(conn.mirror.view),
    });
    this.measure = new MeasureTool({ viewer, model, send: (k, f) => tools.send(k, f), toScreen: (v) => toScreen(viewer, v) });
    this.measureCtl = new MeasureControl({ measure: this.measure, bus });
    this.xrDraft = new XRIssueDraft(viewer.scene, { onConfirm: (hit, draft) => this.issues.annotateAt(hit, draft) });
    this.issues = new Issues({
      cfg, conn, viewer, model, tools, pins: this.pins, xrDraft: this.xrDraft, avatars: this.avatars, bus,
      cameraRecord: () => this.ownView.cameraRecord(),
      panel: new AnnotationPanel($('tab-annotations'), {
        send: (k, f) => tools.send(k, f),
        canSend: (k) => tools.can(k),
        flyToAnnotation: (a) => this.issues.flyTo(a),
        nameOf: (u) => this.roster.nameOf(u),
        members: () => this.roster.members,
        snapshotUrl: (a) => snapshotUrl(cfg.roomId, a, cfg.authHeader),
        retakeSnapshot: (a) => this.issues.takeSnapshot(a.id),
      }),
    });
    this.markup = new MarkupControl({
      conn, viewer, model, tools, bus,
      color: () => cfg.identity?.color ?? '#ff3b30',
      topic: () => this.issues.panel.selected ?? null,
      nameOf: (u) => this.roster.nameOf(u),
    });
    this.pointer = new PointerInput({
      viewer, model, tools, bus, measure: this.measure, markup: this.markup, gizmo: this.gizmo, pins: this.pins,
      onPin: (id) => this.issues.selectPin(id),
      onAnnotate: (hit, e) => this.issues.composeAt(hit, e),
      onSelect: (part) => this.selection.select(part),
    });
    // The trigger does what the wrist menu's tool says (xr/xrtools.js); pin drafts an issue that
    // is created only once confirmed (tools/xrconfirm.js).
    this.xrTools = new XRTools({
      viewer, model, conn, tools, bus, issues: this.issues, xrDraft: this.xrDraft, own, apply, sectionCtl: this.sectionCtl,
      color: () => cfg.identity?.color ?? '#ff3b30', nameOf: (u) => this.roster.nameOf(u),
      teleport: (p) => this.xr.teleport(p),
    });
    this.xr = new XRControls(viewer, model, {
      onTrigger: (hit, c) => this.xrTools.trigger(hit, c),
      onRelease: (c) => this.xrTools.release(c),
      onAim: (c) => this.xrTools.frame(c),
      canGrab: () => tools.can('node.set'),
      onGrab: (part, phase, matrix) => this.gizmo.onDrag(part, phase, matrix),
      onSession: (mode) => this.xrSession.onSession(mode),
      onSqueeze: () => this.xrDraft.cancel(),
    });
    this.xr.setMenu(this.xrTools.menu);
    this.xrSession = new XRSession({ cfg, conn, xr: this.xr, xrDraft: this.xrDraft, onChange: () => this.roster.sync() });
    this.poses = new PoseSource({ conn, viewer, model, xr: this.xr, pointer: this.pointer });
    this.models = new ModelSwitcher({ cfg, conn, model, avatars: this.avatars, bus, timings: this.timings, t0: this.t0 });
    this.treeCtl = new TreeControl({ root: $('tab-tree'), viewer, model, own, selection: this.selection, apply });
    this.compare = new CompareControl({ cfg, conn, viewer, model, tools, bus, apply });
    this.ownView.addOverlay({ colors: () => this.compare.overlayColors(), isolation: () => this.compare.overlayIsolation() });
    this.savedViews = new SavedViews({ conn, tools, own, ownView: this.ownView, bus, nameOf: (u) => this.roster.nameOf(u) });
    this.diagnostics = new Diagnostics(this);
    this.diagnostics.add('compare', () => this.compare.describe());
    this.diagnostics.add('section_box', () => this.sectionBox.describe());
    this.diagnostics.add('saved_views', () => this.savedViews.describe());
    this.diagnostics.add('xr_tools', () => this.xrTools.describe());
    this.diagnostics.add('xr_input', () => this.xr.inputModels.describe());
    this.diagnostics.add('markup', () => ({ drawing: this.markup.tool.describe(), items: this.markup.view.describe() }));
    this.features = this._features();

    this._wire();
  }

  /** Optional features, each one module (see the top of this file). Add yours here. */
  _features() {
    this.voice = attachVoice(this); // voice/ (docs/voice.md)
    this.diagnostics.add('voice', () => ({ ...this.voice.describe(), ...this.voice.ui.describe() }));
    return [this.voice];
  }

  /** How the parts hear about each other: connection -> bus, model -> parts, frames. */
  _wire() {
    const { conn, bus, viewer, model, tools } = this;
    tools.register('home', () => { if (model.bounds) viewer.frameBox(model.bounds); });

    // The connection.
    conn.on('state', ({ state, detail }) => hud.showConnection(state, detail, conn.outbox.size));
    conn.on('welcome', (w) => bus.emit('welcome', w));
    conn.on('presence', () => this.roster.sync()); // after Roster / FollowControl saw the event
    conn.on('poses', (m) => {
      this.interp.receive(m, performance.now() / 1000);
      viewer.invalidate(400); // keep drawing while remote motion is being interpolated
    });
    conn.on('view', (m) => this.ownView.onShared(m));
    conn.on('meeting', (m) => showMeeting(m)); // recording indicator (docs/meetings.md, R29)
    conn.on('error', (m) => { if (m?.code === 'forbidden') toast(m.reason ?? 'Not allowed for your role.'); });
    conn.on('reject', (m) => toast(`Change refused: ${m.reason ?? m.code}`));
    conn.mirror.onChange((view) => {
      viewer.invalidate();
      bus.emit('state', view);
    });

    // welcome: Roster (names, members), FollowControl (spawn index), ModelSwitcher subscribed
    // in their constructors; then these.
    bus.on('welcome', (w) => {
      this.interp.setTickHz(w.tick_hz ?? 30);
      this.poses.start(w.tick_hz ?? 30);
      tools.refresh();
      this.roster.sync();
    });
    // state: Issues (panel, pins) and FollowControl (present button) subscribed already.
    bus.on('state', (view) => {
      this.measurements.sync(view.measurements);
      this.ownView.apply(view);
      tools.refresh();
      this.roster.sync();
      hud.showConnection(conn.state, conn.lastError, conn.outbox.size);
      this.selection.refresh();
    });
    bus.on('level', () => {
      this.ownView.apply();
      if (!this.follow.spawned && model.bounds) {
        this.follow.spawned = true;
        if (this.cfg.initialView) this.ownView.openAt(this.cfg.initialView);
        else this.follow.spawnApart();
      }
    });
    bus.on('unload', () => this.selection.reset()); // the selected part belonged to the old version

    // Tiled models load element properties on demand: refresh what shows them when they arrive.
    model.onPartInfo = (part) => {
      this.pointer.partInfoArrived(part);
      this.selection.refresh(part);
    };
    // Load timings count frames actually drawn with the model on screen.
    viewer.afterRender = () => {
      if (!model.display) return;
      const now = performance.now() - this.t0;
      this.timings.first_model_frame_ms ??= now;
      if (model.fullDetail) this.timings.full_detail_frame_ms ??= now;
    };
    // Full detail reached with nothing left to draw (the last piece changed nothing on screen,
    // e.g. the element table): the frame already shown is the full-detail one.
    bus.on('level', (level, last) => {
      if (last && model.display && this.timings.first_model_frame_ms !== undefined && !viewer.drawPending) {
        this.timings.full_detail_frame_ms ??= performance.now() - this.t0;
      }
    });
    viewer.onFrame(() => {
      const poses = this.interp.sampleAll(performance.now() / 1000);
      this.follow.frame(poses);
      bus.emit('frame', poses);
    });

    // The page around the view.
    for (const tab of document.querySelectorAll('.tab')) {
      tab.addEventListener('click', () => {
        hud.showTab(tab.dataset.tab);
        if (tab.dataset.tab === 'tree') this.treeCtl.render();
      });
    }
    hud.showInspector(null);
    showNavHelp($('stage'));
    $('room-title').textContent = `Room ${this.cfg.roomId}`;
    tools.refresh();
    this.xrSession.setupButtons($('xr-buttons'));
  }

  start() {
    hud.showConnection('connecting', null, this.conn.outbox.size);
    this.conn.start();
    if (this.cfg.manifestUrl) this.models.load(this.cfg.manifestUrl);
  }

  // ---- the surface main.js (window.__vrcollab) uses ----------------------------------------

  info() { return this.diagnostics.info(); }

  centerHit() { return this.diagnostics.centerHit(); }

  faceAt(xy) { return this.diagnostics.faceAt(xy); }

  currentPose() { return this.poses.current(); }

  select(part) { this.selection.select(part); }

  enterXR(mode) { return this.xrSession.enter(mode); }
}
