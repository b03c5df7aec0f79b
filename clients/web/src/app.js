// The review session: wires the sync connection (state/) to the 3D view (viewer/) and the UI (ui/).
import * as THREE from 'three';
import { TransformControls } from 'three/addons/controls/TransformControls.js';
import { Connection } from './state/connection.js';
import { PoseInterpolator } from './state/interp.js';
import { detectDeviceClass } from './state/lod.js';
import { canSend, newAnnotation, viewpoint as makeViewpoint } from './state/codec.js';
import { annotationList } from './state/room.js';
import { Viewer } from './viewer/viewer.js';
import { ModelView } from './viewer/model.js';
import { Avatars } from './viewer/avatars.js';
import { Pins } from './viewer/pins.js';
import { SectionView } from './viewer/section.js';
import { XRControls } from './viewer/xr.js';
import { xrNotice } from './ui/xrnotice.js';
import { AnnotationPanel } from './ui/panel.js';
import { OwnView } from './tools/viewstate.js';
import { spawnAzimuth, followPose, lockReasons, fetchMembers } from './tools/people.js';
import { showNavHelp } from './ui/help.js';
import { XRIssueDraft } from './tools/xrconfirm.js';
import { MeasureTool, MeasurementsView, hitTriangle } from './tools/measure.js';
import { viewLink } from './tools/viewlink.js';
import { propertyKeys, colorize, CLASS_KEY } from './tools/colorby.js';
import { buildIndex } from './tools/tree.js';
import { ModelTree } from './ui/tree.js';
import { captureViewer, uploadSnapshot, snapshotUrl } from './tools/snapshot.js';
import { el, mount, toast } from './ui/dom.js';
import * as hud from './ui/hud.js';
import { showMeeting } from './replay/indicator.js';

const DRAG_SEND_MS = 150;

export class App {
  /**
   * @param {object} cfg {roomId, wsUrl, authHeader, identity{name,color,device}, clientId,
   *                      manifestUrl (override), deviceClass (override), storage}
   */
  constructor(cfg) {
    this.cfg = cfg;
    this.t0 = performance.now();
    this.timings = { app_start_ms: this.t0 }; // performance.now() origin of the other timings
    this.tool = 'select';
    this.selected = null;
    this.following = null; // session id we follow, or 'presenter'
    this.names = new Map();
    this.memberNames = new Map();
    this.members = [];
    this.own = new OwnView(); // hide / isolate / section for ourselves only
    this.dragging = null;

    this.viewer = new Viewer(document.getElementById('viewport'), { quality: cfg.quality });
    this.model = new ModelView(this.viewer, { authHeader: cfg.authHeader, batching: cfg.batching ?? true });
    // Tiled models load element properties on demand: refresh what shows them when they arrive.
    this.model.onPartInfo = (part) => this._partInfoArrived(part);
    // Pins and avatars live under the model root: their coordinates are model space.
    this.avatars = new Avatars(this.model.root);
    this.pins = new Pins(this.model.root);
    this.section = new SectionView(this.viewer, this.model.root);
    this.measurements = new MeasurementsView(this.model.root);
    this.measure = new MeasureTool({
      viewer: this.viewer, model: this.model, send: (k, f) => this.send(k, f), toScreen: (v) => this.toScreen(v),
    });
    this.interp = new PoseInterpolator();
    this.xr = new XRControls(this.viewer, this.model, {
      // A trigger pull drafts an issue; it is created only once confirmed (tools/xrconfirm.js).
      onTrigger: (hit) => this.draftXRIssue(hit),
      canGrab: () => this.can('node.set'),
      onGrab: (part, phase, matrix) => this.onDrag(part, phase, matrix),
      onSession: (mode) => this.onXRSession(mode),
      onSqueeze: () => this.xrDraft.cancel(),
    });
    this.xrDraft = new XRIssueDraft(this.viewer.scene, { onConfirm: (hit, draft) => this.annotateAt(hit, draft) });
    // Load timings count frames actually drawn with the model on screen.
    this.viewer.afterRender = () => {
      if (!this.model.display) return;
      const now = performance.now() - this.t0;
      this.timings.first_model_frame_ms ??= now;
      if (this.model.summary().full_detail) this.timings.full_detail_frame_ms ??= now;
    };

    this.conn = new Connection({
      url: cfg.wsUrl, roomId: cfg.roomId, clientId: cfg.clientId, identity: cfg.identity,
      storage: cfg.storage,
    });
    this.panel = new AnnotationPanel(document.getElementById('tab-annotations'), {
      send: (k, f) => this.send(k, f),
      canSend: (k) => this.can(k),
      flyToAnnotation: (a) => this.flyToAnnotation(a),
      nameOf: (u) => this.nameOf(u),
      members: () => this.members,
      snapshotUrl: (a) => snapshotUrl(this.cfg.roomId, a, this.cfg.authHeader),
      retakeSnapshot: (a) => this.takeSnapshot(a.id),
    });
    this.tree = new ModelTree(document.getElementById('tab-tree'), {
      index: () => this.treeIndex(),
      partInfo: (n) => this.model.partInfo(n),
      isHidden: (n) => this.own.hidden.has(n),
      setHidden: (nodes, hide) => {
        for (const n of nodes) if (hide) this.own.hide(n); else this.own.hidden.delete(n);
        this._applyViewState();
      },
      flyToPart: (n) => this.flyToPart(n),
    });
    this.toolbar = hud.buildToolbar(document.getElementById('toolbar'), (t) => this.onTool(t), {
      onLocked: (id, reason) => toast(reason),
    });
    showNavHelp(document.getElementById('stage'));
    window.addEventListener('keydown', (e) => { if (e.key === 'Escape') this.measure.reset(); });
    this.toolbar.setActive('select', true);
    this._wireConnection();
    this._wirePointer();
    this._wireTabs();
    this._wireTransform();
    this.viewer.onFrame((dt, time) => this._frame(dt, time));
    document.getElementById('room-title').textContent = `Room ${cfg.roomId}`;
    this._refreshPermissions();
    this._setupXRButtons();
  }

  start() {
    hud.showConnection('connecting', null, this.conn.outbox.size);
    this.conn.start();
    if (this.cfg.manifestUrl) this.loadModel(this.cfg.manifestUrl);
  }

  can(kind) {
    return this.conn.welcome ? canSend(this.conn.role, kind) : false;
  }

  nameOf(userId) {
    if (!userId) return 'someone';
    if (userId === this.conn.welcome?.user?.user_id) return 'You';
    // Online people by the name they joined with; offline authors by their account name.
    return this.names.get(userId) ?? this.memberNames.get(userId) ?? String(userId).slice(0, 10);
  }

  send(kind, fields) {
    if (!this.can(kind) && this.conn.welcome) {
      toast(`Your role (${this.conn.role}) cannot do that.`);
      return null;
    }
    try {
      return this.conn.send(kind, fields);
    } catch (err) {
      toast(String(err.message ?? err));
      return null;
    }
  }

  _wireTabs() {
    for (const tab of document.querySelectorAll('.tab')) {
      tab.addEventListener('click', () => {
        hud.showTab(tab.dataset.tab);
        if (tab.dataset.tab === 'tree') this.tree.render();
      });
    }
    hud.showInspector(null);
  }

  // ---- connection ---------------------------------------------------------------------------

  _wireConnection() {
    const c = this.conn;
    c.on('state', ({ state, detail }) => hud.showConnection(state, detail, c.outbox.size));
    c.on('welcome', (w) => {
      this.names.set(w.user.user_id, w.user.name);
      for (const p of w.presence ?? []) this.names.set(p.user_id, p.name);
      this.spawnIndex ??= (w.presence ?? []).filter((p) => p.session_id !== w.session_id).length;
      this._loadMembers();
      this.interp.setTickHz(w.tick_hz ?? 30);
      this._startPoseTimer(w.tick_hz ?? 30);
      this._refreshPermissions();
      this._syncAvatars();
      const url = w.room?.model?.manifest_url;
      // First join, or a resume after the room switched versions while we were away.
      if (url && !this.cfg.manifestUrl && url !== this.modelUrl) this.switchModel(url);
      if (!url && !this.cfg.manifestUrl) hud.showLoading('This room has no model yet.', 0);
    });
    c.on('presence', (m) => {
      if (m.entry.name) this.names.set(m.entry.user_id, m.entry.name);
      if (m.event === 'leave') {
        this.avatars.remove(m.entry.session_id);
        this.interp.remove(m.entry.session_id);
        if (this.following === m.entry.session_id) this.following = null;
      }
      this._syncAvatars();
    });
    c.on('poses', (m) => {
      this.interp.receive(m, performance.now() / 1000);
      // Keep drawing while remote motion is being interpolated.
      this.viewer.invalidate(400);
    });
    c.on('gather', (m) => this.onGather(m));
    c.on('view', (m) => this.onSharedView(m));
    c.on('meeting', (m) => showMeeting(m)); // recording indicator (docs/meetings.md, R24)
    c.on('error', (m) => { if (m?.code === 'forbidden') toast(m.reason ?? 'Not allowed for your role.'); });
    c.on('model', (model) => {
      if (model?.manifest_url && !this.cfg.manifestUrl) this.switchModel(model.manifest_url);
    });
    c.on('reject', (m) => toast(`Change refused: ${m.reason ?? m.code}`));
    c.mirror.onChange((view) => this.onState(view));
  }

  _startPoseTimer(hz) {
    clearInterval(this.poseTimer);
    this.poseTimer = setInterval(() => this.sendPose(), 1000 / Math.max(1, Math.min(60, hz)));
  }

  onState(view) {
    this.viewer.invalidate();
    this.panel.render(view);
    const list = annotationList(view);
    this.pins.sync(list, this.panel.selected);
    this.measurements.sync(view.measurements);
    this._applyViewState(view);
    this.toolbar.setActive('present', Boolean(view.presenter) && view.presenter === this.conn.welcome?.user?.user_id);
    this._refreshPermissions();
    this._syncAvatars();
    hud.showConnection(this.conn.state, this.conn.lastError, this.conn.outbox.size);
    if (this.selected) hud.showInspector(this.model.partInfo(this.selected), view.nodes[this.selected]);
  }

  _syncAvatars() {
    this.viewer.invalidate();
    const view = this.conn.mirror.view;
    const people = [...this.conn.participants.values()];
    for (const p of people) this.avatars.upsert(p);
    const self = this.conn.welcome ? { ...this.conn.welcome.user, device: this.conn.identity.device } : null;
    hud.renderPeople(document.getElementById('tab-people'), {
      self, participants: people, presenter: view.presenter, following: this.following,
      onFollow: (sid) => this.follow(sid),
    });
  }

  _refreshPermissions() {
    const role = this.conn.welcome ? this.conn.role : 'viewer';
    const presenting = Boolean(this.conn.welcome && this.conn.mirror.view.presenter === this.conn.welcome.user.user_id);
    // Hide, isolate, show all and section are our own view: open to every role.
    for (const [tool, reason] of Object.entries(lockReasons(role, { presenting, online: Boolean(this.conn.welcome) }))) {
      this.toolbar.setEnabled(tool, reason === null, reason ?? undefined);
    }
  }

  /** Draw the room's durable state with our own view (hidden, isolated, section) on top. */
  _applyViewState(view = this.conn.mirror.view) {
    // model.isolated is the local isolation the node state is drawn with.
    const isolated = this.own.isolated ? [...this.own.isolated] : null;
    // The tiled path draws isolation through its element-state texture: go through isolate().
    if (this.model.tiled) this.model.isolate(isolated);
    else this.model.isolated = isolated ? new Set(isolated) : null;
    this.model.setNodeState(this.own.nodes(view.nodes), { skip: this.dragging });
    this.section.apply(this.own.sections(view.sections));
    this.toolbar.setActive('section', Boolean(this.section.current));
    this.toolbar.setActive('isolate', Boolean(this.own.isolated));
    this.viewer.invalidate();
  }

  async _loadMembers() {
    const list = await fetchMembers(this.cfg.roomId, this.cfg.authHeader);
    if (!list) return;
    this.members = list;
    for (const m of list) this.memberNames.set(m.user_id, m.name);
    this.panel.render(this.conn.mirror.view);
  }

  // ---- model --------------------------------------------------------------------------------

  /** Load the room's model, or replace the one on screen when the room moved to another version
   * (loads run one after another, so a quick second switch waits for the first). */
  switchModel(url) {
    if (url === this.modelUrl) return this.modelTask;
    const previous = this.modelUrl;
    this.modelUrl = url;
    this.modelTask = (this.modelTask ?? Promise.resolve()).then(async () => {
      if (this.modelUrl !== url) return; // superseded while waiting
      if (previous) {
        this.selected = null;
        this._attachGizmo(); // detaches: the selected part belonged to the old version
        this.model.unload();
        hud.showInspector(null);
        toast('The room moved to a new model version');
      }
      await this.loadModel(url);
    });
    return this.modelTask;
  }

  async loadModel(url) {
    this.modelLoading = true;
    const device = this.cfg.deviceClass ?? detectDeviceClass({ userAgent: navigator.userAgent, xrHeadset: Boolean(this.cfg.xrEmulate) });
    this.model.onProgress = (level, i, n, ev) => {
      const frac = ev.total ? ev.loaded / ev.total : 0.5;
      hud.showLoading(`Loading ${level.name} (${i + 1}/${n}) · ${(ev.loaded / 1e6).toFixed(1)} MB`, (i + frac) / n);
    };
    this.model.onLevel = (level, last) => {
      const now = performance.now() - this.t0;
      if (this.timings.first_level_ms === undefined) this.timings.first_level_ms = now;
      if (last) this.timings.full_detail_ms = now;
      this._applyViewState();
      if (!this.spawned && this.model.bounds) {
        if (this.cfg.initialView) this._openAtView(this.cfg.initialView);
        else this._spawnApart();
      }
      const info = document.getElementById('model-info');
      const tri = level.triangles ? `${(level.triangles / 1000).toFixed(level.triangles < 10000 ? 1 : 0)}k triangles` : '';
      info.textContent = `${this.model.manifest?.source?.name ?? 'model'} · ${level.name}${tri ? ` · ${tri}` : ''}`;
      if (this.model.bounds) this.avatars.setScale(Math.max(1, this.model.bounds.getSize(new THREE.Vector3()).length() / 40));
      if (last) hud.showLoading(null);
    };
    try {
      await this.model.load(url, device);
    } catch (err) {
      console.error(err);
      hud.showLoading(`Could not load the model: ${err.message ?? err}`, 0);
      this.modelError = String(err.message ?? err);
    }
  }

  // ---- pointer and tools ------------------------------------------------------------------

  _wirePointer() {
    const canvas = this.viewer.renderer.domElement;
    let down = null;
    let hoverQueued = null;
    this.pointer = null;
    canvas.addEventListener('pointermove', (e) => {
      this.pointer = { ndc: this.viewer.ndc(e), x: e.clientX, y: e.clientY };
      // The gizmo's hover state and drag plane update when a frame is drawn.
      if (this.tc.object) this.viewer.invalidate(100);
      if (!hoverQueued) {
        hoverQueued = requestAnimationFrame(() => {
          hoverQueued = null;
          this._hover();
        });
      }
    });
    canvas.addEventListener('pointerleave', () => {
      this.pointer = null;
      this.model.setHover(null);
      hud.showTooltip(0, 0, null);
    });
    canvas.addEventListener('pointerdown', (e) => { down = { x: e.clientX, y: e.clientY, t: performance.now() }; });
    canvas.addEventListener('pointerup', (e) => {
      if (!down || e.button !== 0) return;
      const moved = Math.hypot(e.clientX - down.x, e.clientY - down.y);
      down = null;
      if (moved > 5 || this.tc.dragging) return;
      this.onClick(e);
    });
    canvas.addEventListener('dblclick', (e) => {
      const hit = this.model.pickPrecise(this.viewer.ndc(e));
      if (hit) this.viewer.flyToPoint(hit.point);
    });
  }

  _partInfoArrived(part) {
    if (this.pointer && this.hoverHit?.part === part) hud.showTooltip(this.pointer.x, this.pointer.y, this.model.partInfo(part));
    if (this.selected === part) hud.showInspector(this.model.partInfo(part), this.conn.mirror.view.nodes[part]);
  }

  _hover() {
    if (!this.pointer || this.tc?.dragging) return;
    // Measuring snaps to the displayed level's triangles; hovering otherwise uses the cheap proxy.
    const hit = this.tool === 'measure' ? this.model.pickPrecise(this.pointer.ndc) : this.model.pickHover(this.pointer.ndc);
    if (this.tool === 'measure') this.measure.hover(hit, [this.pointer.x, this.pointer.y]);
    this.hoverHit = hit;
    this.model.setHover(hit?.part ?? null);
    hud.showTooltip(this.pointer.x, this.pointer.y, hit?.part ? this.model.partInfo(hit.part) : null);
  }

  async onClick(e) {
    const ndc = this.viewer.ndc(e);
    this.viewer.raycaster.setFromCamera(ndc, this.viewer.camera);
    const pin = this.pins.pick(this.viewer.raycaster);
    if (pin && this.tool !== 'annotate') {
      this.panel.select(pin);
      this.pins.sync(annotationList(this.conn.mirror.view), pin);
      return;
    }
    const hit = this.model.pickPrecise(ndc);
    if (this.tool === 'measure') {
      const m = this.measure.click(hit, [e.clientX, e.clientY]);
      toast(m ? 'Measured. Click two more points for another distance.' : hit ? 'Now click the second point (Esc cancels).' : 'Click on the model.');
      return;
    }
    if (this.tool === 'annotate') {
      if (!hit) return;
      const draft = await hud.compose(e.clientX, e.clientY);
      if (draft) this.annotateAt(hit, draft);
      return;
    }
    this.select(hit?.part ?? null);
  }

  /** annotation.create at a hit point with the current viewpoint (desktop click or VR trigger). */
  annotateAt(hit, { title = '', text = '', priority = 'normal' } = {}) {
    if (!this.can('annotation.create')) return null;
    const info = hit.part ? this.model.partInfo(hit.part) : null;
    const a = newAnnotation({
      position: this.model.toModel(hit.point), normal: this.model.toModel(hit.normal, true),
      nodeId: hit.part ?? null, elementId: info?.element_id ?? null,
      view: makeViewpoint(this.vpToModel(this.viewer.viewpoint())), title, text, priority,
    });
    if (!this.send('annotation.create', { annotation: a })) return null;
    // An immersive session's frames are not on the page canvas: no snapshot from VR (retake later).
    if (!this.viewer.renderer.xr.isPresenting) this.takeSnapshot(a.id);
    this.panel.selected = a.id;
    this.panel.render(this.conn.mirror.view);
    this.pins.sync(annotationList(this.conn.mirror.view), a.id);
    return a;
  }

  /** VR trigger: draft an issue at the hit; a second pull on the draft creates it. */
  draftXRIssue(hit) {
    if (!this.can('annotation.create')) {
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
      this.snapshots = (this.snapshots ?? 0) + 1;
      const ref = await uploadSnapshot(this.cfg.roomId, annotationId, blob, this.cfg.authHeader);
      if (ref) this.snapshotsStored = (this.snapshotsStored ?? 0) + 1;
      return ref;
    } catch (err) {
      toast(`Could not store the snapshot: ${err.message ?? err}`);
      return null;
    }
  }

  select(part) {
    this.selected = part;
    this.model.setSelected(part);
    hud.showInspector(part ? this.model.partInfo(part) : null, part ? this.conn.mirror.view.nodes[part] : null);
    if (part) hud.showTab('part');
    this._attachGizmo();
  }

  onTool(id) {
    const view = this.conn.mirror.view;
    switch (id) {
      case 'select':
      case 'annotate':
      case 'measure':
      case 'move':
      case 'rotate':
        this.tool = id;
        this.measure.reset();
        for (const t of ['select', 'annotate', 'measure', 'move', 'rotate']) this.toolbar.setActive(t, t === id);
        this.viewer.renderer.domElement.style.cursor = id === 'annotate' || id === 'measure' ? 'crosshair' : '';
        this._attachGizmo();
        break;
      case 'hide':
        if (this.selected) {
          this.own.hide(this.selected);
          this.select(null);
          this._applyViewState();
          toast('Hidden for you only. “Show my view to everyone” shares it.');
        } else {
          toast('Select a part first.');
        }
        break;
      case 'isolate':
        if (this.own.isolated) this.own.isolate(null);
        else if (this.selected) this.own.isolate([this.selected]);
        else toast('Select a part first.');
        this._applyViewState();
        break;
      case 'showall': {
        this.own.clear();
        this._sectionControls(null);
        this._applyViewState();
        // Editors also bring back what was hidden for the whole room.
        const roomHidden = Object.entries(view.nodes).filter(([, st]) => st.visible === false);
        if (roomHidden.length && this.can('node.set')) {
          for (const [node] of roomHidden) this.send('node.set', { node_id: node, props: { visible: true } });
        }
        break;
      }
      case 'share':
        this.shareView();
        break;
      case 'link':
        this.copyViewLink();
        break;
      case 'colorby':
        this._colorByPanel();
        break;
      case 'section':
        this.toggleSection();
        break;
      case 'home':
        if (this.model.bounds) this.viewer.frameBox(this.model.bounds);
        break;
      case 'present': {
        const me = this.conn.welcome?.user?.user_id;
        this.send('presenter.set', { user_id: view.presenter === me ? null : me });
        break;
      }
      case 'follow':
        this.follow(this.following === 'presenter' ? null : 'presenter');
        if (this.following && !view.presenter) toast('Nobody is presenting right now.');
        break;
      case 'gather':
        if (this.conn.command('gather')) toast('Bringing everyone to your view.');
        break;
      default:
        break;
    }
  }

  /** The model's bounding box in model space. */
  modelBounds() {
    if (!this.model.bounds) return null;
    return this.model.bounds.clone().applyMatrix4(this.model.root.matrixWorld.clone().invert());
  }

  /** Our own section plane on or off (the room's plane, if any, is replaced while ours is on). */
  toggleSection() {
    const current = this.section.current;
    if (current) {
      this.own.setSection({ ...current, enabled: false });
      this._sectionControls(null);
      this._applyViewState();
      return;
    }
    const b = this.modelBounds();
    const up = this.model.upAxis === 'Z' ? 2 : 1;
    const mid = b ? b.getCenter(new THREE.Vector3()).getComponent(up) : 0;
    const s = { normal: up === 2 ? [0, 0, 1] : [0, 1, 0], offset: mid, enabled: true };
    this.own.setSection(s);
    this._applyViewState();
    this._sectionControls(s);
  }

  /** "Show my view to everyone": editors write it into the room (node.set, section.set, durable);
   * editors and the presenter also send the ephemeral `view` command (R23) so the others take over
   * isolation and camera. Anyone else is told why not. */
  shareView() {
    const editor = this.can('node.set');
    const me = this.conn.welcome?.user?.user_id;
    const presenting = Boolean(me && this.conn.mirror.view.presenter === me);
    if (!editor && !presenting) {
      toast('Only editors or the presenter can show their view to everyone: press Present first.');
      return;
    }
    const wire = this.own.toWire(makeViewpoint(this.vpToModel(this.viewer.viewpoint())));
    if (editor) {
      const room = this.conn.mirror.view;
      for (const id of this.own.hidden) {
        if (room.nodes[id]?.visible !== false) this.send('node.set', { node_id: id, props: { visible: false } });
      }
      if (this.own.section) this.send('section.set', { section: { id: 'main', ...this.own.section } });
      else for (const s of Object.values(room.sections)) if (s.enabled) this.send('section.set', { section: { ...s, enabled: false } });
    }
    if (this.conn.command('view', { view: wire })) toast('Everyone now sees your view.');
  }

  /** Someone (editor or presenter) showed us their view (R23): it replaces our own. */
  onSharedView(m) {
    this.own.adopt(m.view);
    this._sectionControls(null);
    this._applyViewState();
    const cam = m.view?.camera;
    if (cam && !this.following) this.viewer.flyTo(this.vpToWorld(cam));
    const who = this.conn.participants.get(m.from)?.name ?? 'A participant';
    toast(`${who} showed you their view. “Show all” returns to the whole model.`);
  }

  /** The model tree index of the displayed model (built once per model). */
  treeIndex() {
    if (!this.model.display || !this.model.parts.size) return null;
    if (this._treeFor === this.model.display) return this._tree;
    const entries = [];
    for (const [node, part] of this.model.parts) {
      const info = this.model.partInfo(node);
      const obj = this.model.displayObject(node) ?? [...part.objects][0];
      const path = [];
      for (let o = obj?.parent; o && o !== this.model.display && o !== this.model.root; o = o.parent) if (o.name) path.unshift(o.name);
      entries.push({ ...info, path });
    }
    this._treeFor = this.model.display;
    this._tree = buildIndex(entries);
    return this._tree;
  }

  /** Select a part and fly to it (model tree). */
  flyToPart(node) {
    const obj = this.model.displayObject(node);
    if (!obj) return;
    this.select(node);
    const box = new THREE.Box3().setFromObject(obj);
    if (!box.isEmpty()) this.viewer.flyToPoint(box.getCenter(new THREE.Vector3()));
  }

  /** Colour every part by one property's value (own view), with a legend; null key clears. */
  colorBy(key) {
    this.own.colors.clear();
    this.colorLegend = null;
    if (key) {
      const infos = [...this.model.parts.keys()].map((n) => this.model.partInfo(n)).filter(Boolean);
      const { colors, legend } = colorize(infos, key);
      this.own.colors = colors;
      this.colorLegend = { key, legend };
    }
    this._applyViewState();
    this._renderLegend();
    this.toolbar.setActive('colorby', Boolean(key));
    return this.colorLegend;
  }

  _colorByPanel() {
    const old = document.getElementById('colorby-ctl');
    if (old) {
      old.remove();
      return;
    }
    const infos = [...this.model.parts.keys()].map((n) => this.model.partInfo(n)).filter(Boolean);
    const keys = propertyKeys(infos);
    const sel = el('select', { id: 'colorby-key', 'aria-label': 'Colour by property' },
      el('option', { value: '' }, 'No colours'),
      keys.map((k) => el('option', { value: k }, k === CLASS_KEY ? 'IFC class' : k)));
    sel.value = this.colorLegend?.key ?? '';
    sel.addEventListener('change', () => this.colorBy(sel.value || null));
    const box = el('div', { class: 'colorby-ctl', id: 'colorby-ctl' }, el('span', {}, 'Colour by'), sel, el('div', { id: 'colorby-legend', class: 'legend' }));
    document.getElementById('stage').append(box);
    this._renderLegend();
  }

  _renderLegend() {
    const box = document.getElementById('colorby-legend');
    if (!box) return;
    mount(box, (this.colorLegend?.legend ?? []).slice(0, 16).map((r) => el('div', { class: 'row', dataset: { value: r.value } },
      el('span', { class: 'sw', style: { background: hud.safeColor(r.color) } }), el('span', {}, `${r.value} (${r.count})`))));
  }

  /** A link to our own view (camera, section, hidden, isolated): copied, and kept for tests. */
  async copyViewLink() {
    const camera = makeViewpoint(this.vpToModel(this.viewer.viewpoint()));
    this.lastViewLink = viewLink(this.cfg.roomId, this.own.toWire(camera));
    try {
      await navigator.clipboard.writeText(this.lastViewLink);
      toast('Link to this view copied.');
    } catch {
      toast('Copy this link to share the view (the clipboard is not available here).');
    }
    return this.lastViewLink;
  }

  /** Open at a saved view (a `?view=` link): it becomes our own view, the camera goes there. */
  _openAtView(view) {
    this.spawned = true;
    this.own.adopt(view);
    this._applyViewState();
    if (this.own.section) this._sectionControls(this.own.section);
    if (view.camera) {
      const w = this.vpToWorld(view.camera);
      this.viewer.camera.position.fromArray(w.position);
      this.viewer.controls.target.fromArray(w.target);
      this.viewer.controls.update();
    }
    this.viewer.invalidate();
  }

  /** Desktop clients start at distinct framings around the model (the k-th person in the room
   * at the k-th golden-angle turn), so nobody starts inside someone else's head. */
  _spawnApart() {
    this.spawned = true;
    if (this.viewer.renderer.xr.isPresenting || this.following) return;
    const angle = spawnAzimuth(this.spawnIndex ?? 0);
    if (!angle) return;
    const c = this.viewer.controls.target;
    const off = this.viewer.camera.position.clone().sub(c).applyAxisAngle(new THREE.Vector3(0, 1, 0), angle);
    this.viewer.camera.position.copy(c).add(off);
    this.viewer.controls.update();
    this.viewer.invalidate();
  }

  _sectionControls(s) {
    document.getElementById('section-ctl')?.remove();
    const b = this.modelBounds();
    if (!s || !b) return;
    const axes = { x: [1, 0, 0], y: [0, 1, 0], z: [0, 0, 1] };
    let axis = this.model.upAxis === 'Z' ? 'z' : 'y';
    const slider = el('input', { type: 'range', min: 0, max: 1000, value: 500, 'aria-label': 'Section offset' });
    const axisSel = el('select', { 'aria-label': 'Section axis' }, ['x', 'y', 'z'].map((a) => el('option', { value: a }, a.toUpperCase())));
    axisSel.value = axis;
    let last = 0;
    const push = (final) => {
      const k = Number(slider.value) / 1000;
      const i = { x: 0, y: 1, z: 2 }[axis];
      const lo = b.min.getComponent(i);
      const hi = b.max.getComponent(i);
      const sec = { normal: axes[axis], offset: lo + (hi - lo) * k, enabled: true };
      this.own.setSection(sec);
      const now = performance.now();
      if (final || now - last > DRAG_SEND_MS) {
        last = now;
        this._applyViewState();
      } else {
        this.section.apply(this.own.sections({}));
        this.viewer.invalidate();
      }
    };
    slider.addEventListener('input', () => push(false));
    slider.addEventListener('change', () => push(true));
    axisSel.addEventListener('change', () => { axis = axisSel.value; push(true); });
    const box = el('div', { class: 'section-ctl', id: 'section-ctl' }, el('span', {}, 'Section (yours)'), axisSel, slider,
      el('button', { class: 'btn small', onclick: () => this.toggleSection() }, 'Off'));
    document.getElementById('stage').append(box);
  }

  // ---- transforms ---------------------------------------------------------------------------

  _wireTransform() {
    this.tc = new TransformControls(this.viewer.camera, this.viewer.renderer.domElement);
    this.tc.setSize(0.8);
    this.tc.addEventListener('change', () => this.viewer.invalidate());
    this.viewer.scene.add(this.tc.getHelper());
    // The gizmo drives a pivot at the part's centre (IFC parts often have their origin at the
    // site origin); the part follows the pivot's motion.
    this.pivot = new THREE.Object3D();
    this.pivot.name = 'gizmo-pivot';
    this.tc.addEventListener('dragging-changed', (e) => {
      this.viewer.controls.enabled = !e.value;
      const part = this.tcPart;
      if (!part) return;
      if (e.value) {
        this._pivotStart();
        this.onDrag(part, 'start', null);
      } else {
        this.onDrag(part, 'end', this.model.partMatrix(part));
      }
    });
    this.tc.addEventListener('objectChange', () => {
      const part = this.tcPart;
      const obj = part && this.model.displayObject(part);
      if (!obj || !this.pivotStart) return;
      this.pivot.updateMatrix();
      const delta = this.pivot.matrix.clone().multiply(this.pivotStart.inv);
      delta.multiply(this.pivotStart.part).decompose(obj.position, obj.quaternion, obj.scale);
      this.onDrag(part, 'move', this.model.partMatrix(part));
    });
  }

  _pivotStart() {
    const obj = this.model.displayObject(this.tcPart);
    this.pivot.updateMatrix();
    obj.updateMatrix();
    this.pivotStart = { inv: this.pivot.matrix.clone().invert(), part: obj.matrix.clone() };
  }

  _attachGizmo() {
    const mode = this.tool === 'move' ? 'translate' : this.tool === 'rotate' ? 'rotate' : null;
    const obj = mode && this.selected && this.can('node.set') ? this.model.displayObject(this.selected) : null;
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
      this.tcPart = this.selected;
    } else {
      this.tc.detach();
      this.pivot.removeFromParent();
      this.tcPart = null;
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
      if (matrix) this.send('node.set', { node_id: part, props: { transform: matrix.map((v) => Math.round(v * 1e6) / 1e6) } });
    }
    if (phase === 'end') this.dragging = null;
  }

  // ---- presence -----------------------------------------------------------------------------

  /** Our pose for this tick: head from the (XR) camera, hands and laser from controllers or mouse. */
  currentPose() {
    const xr = this.viewer.renderer.xr;
    const cam = xr.isPresenting ? xr.getCamera() : this.viewer.camera;
    const p = new THREE.Vector3();
    const q = new THREE.Quaternion();
    cam.getWorldPosition(p);
    cam.getWorldQuaternion(q);
    const m = this.model;
    const side = (s) => s && { p: m.toModel(new THREE.Vector3(...s.p)), q: m.quatToModel(new THREE.Quaternion(...s.q)) };
    const pose = { head: { p: m.toModel(p), q: m.quatToModel(q) }, left: null, right: null, laser: null };
    let laser = null;
    if (xr.isPresenting) {
      pose.left = side(this.xr.poseOf('left'));
      pose.right = side(this.xr.poseOf('right'));
      laser = this.xr.laser();
    } else if (this.pointer && this.hoverHit) {
      const dir = this.hoverHit.point.clone().sub(p).normalize();
      laser = { origin: p.toArray(), dir: dir.toArray(), hit: this.hoverHit.point.toArray(), node_id: this.hoverHit.part ?? null };
    }
    if (laser) {
      pose.laser = {
        origin: m.toModel(new THREE.Vector3(...laser.origin)),
        dir: m.toModel(new THREE.Vector3(...laser.dir), true),
        hit: laser.hit ? m.toModel(new THREE.Vector3(...laser.hit)) : null,
        node_id: laser.node_id,
      };
    }
    return pose;
  }

  sendPose() {
    if (this.conn.state !== 'online') return;
    const pose = this.currentPose();
    const key = JSON.stringify(pose);
    const now = performance.now();
    // Unchanged poses are re-sent once a second only (the server keeps the latest anyway).
    if (key === this.lastPoseKey && now - this.lastPoseAt < 1000) return;
    this.lastPoseKey = key;
    this.lastPoseAt = now;
    this.conn.sendPose(pose);
  }

  _frame() {
    const poses = this.interp.sampleAll(performance.now() / 1000);
    const xr = this.viewer.renderer.xr;
    const sid = this.following === 'presenter' ? this._presenterSession() : this.following;
    if (this.following && !xr.isPresenting) {
      this.viewer.invalidate();
      const p = sid && poses.get(sid);
      if (p?.head) this._copyHead(p.head);
    }
    // The followed person is hidden (we look over their shoulder); heads near us fade out.
    this.avatars.update(poses, xr.isPresenting ? xr.getCamera() : this.viewer.camera, { hide: this.following ? sid : null });
  }

  /** Follow a session ('presenter' tracks whoever presents); the server tells the others (R13). */
  follow(target) {
    this.following = target;
    this.toolbar.setActive('follow', target === 'presenter');
    const sid = target === 'presenter' ? this._presenterSession() : target;
    this.conn.command('follow', { session_id: sid ?? null });
    this._syncAvatars();
  }

  _presenterSession() {
    const uid = this.conn.mirror.view.presenter;
    if (!uid) return null;
    for (const [sid, e] of this.conn.participants) if (e.user_id === uid) return sid;
    return null;
  }

  /** Follow: the camera sits a little behind and above the followed head, looking the same way. */
  _copyHead(head) {
    const cam = this.viewer.camera;
    const q = this.model.quatFromModel(head.q);
    const at = this.model.fromModel(head.p);
    const { position, target } = followPose(at, q, this.avatars.scale);
    cam.position.copy(position);
    this.viewer.controls.target.copy(target);
    cam.quaternion.copy(q);
  }

  onGather(m) {
    const head = m.pose?.head;
    if (!head) return;
    const fwd = new THREE.Vector3(0, 0, -1).applyQuaternion(this.model.quatFromModel(head.q));
    const at = this.model.fromModel(head.p);
    const pos = at.clone().addScaledVector(fwd, -0.5);
    const target = at.clone().addScaledVector(fwd, 3);
    this.viewer.flyTo({ position: pos.toArray(), target: target.toArray() });
    const who = this.conn.participants.get(m.from)?.name ?? 'A participant';
    toast(`${who} gathered everyone to their view.`);
  }

  /** Viewpoint records are model space; the camera works in world space. */
  vpToModel(vp) {
    return {
      position: this.model.toModel(new THREE.Vector3(...vp.position)),
      target: this.model.toModel(new THREE.Vector3(...vp.target)),
      up: this.model.toModel(new THREE.Vector3(...vp.up), true),
      fov: vp.fov,
    };
  }

  vpToWorld(vp) {
    return {
      position: this.model.fromModel(vp.position).toArray(),
      target: this.model.fromModel(vp.target).toArray(),
    };
  }

  flyToAnnotation(a) {
    if (a.viewpoint) this.viewer.flyTo(this.vpToWorld(a.viewpoint));
    else this.viewer.flyToPoint(this.model.fromModel(a.position));
    this.pins.sync(annotationList(this.conn.mirror.view), a.id);
  }

  // ---- XR -----------------------------------------------------------------------------------

  async _setupXRButtons() {
    const box = document.getElementById('xr-buttons');
    const { vr, ar } = await XRControls.supported();
    const buttons = [];
    if (vr) buttons.push(el('button', { class: 'btn primary', id: 'enter-vr', onclick: () => this.enterXR('vr') }, 'Enter VR'));
    if (ar) buttons.push(el('button', { class: 'btn', id: 'enter-ar', onclick: () => this.enterXR('ar') }, 'Enter AR'));
    mount(box, buttons, xrNotice(el, { vr, ar }));
    this.xrSupport = { vr, ar };
  }

  async enterXR(mode) {
    try {
      await this.xr.enter(mode);
    } catch (err) {
      toast(`Could not start ${mode.toUpperCase()}: ${err.message ?? err}`);
    }
  }

  onXRSession(mode) {
    if (!mode) this.xrDraft.cancel();
    this.conn.setDevice(mode ?? (this.cfg.identity.device === 'phone' ? 'phone' : 'desktop'));
    // The device is part of the hello; a quick resume (last_seq) tells the others.
    this.conn.reconnect();
    this._syncAvatars();
  }

  /** A world point in page pixels (CSS). */
  toScreen(v) {
    const p = v.clone().project(this.viewer.camera);
    const r = this.viewer.renderer.domElement.getBoundingClientRect();
    return [r.left + ((p.x + 1) / 2) * r.width, r.top + ((1 - p.y) / 2) * r.height];
  }

  // ---- test hooks ---------------------------------------------------------------------------

  /** The triangle under a page point: its corners in world and model space, and the part. */
  faceAt([x, y]) {
    const r = this.viewer.renderer.domElement.getBoundingClientRect();
    const ndc = new THREE.Vector2(((x - r.left) / r.width) * 2 - 1, -((y - r.top) / r.height) * 2 + 1);
    const hit = this.model.pickPrecise(ndc);
    const tri = hit && hitTriangle(hit);
    if (!tri) return null;
    return { part: hit.part ?? null, world: tri.map((v) => v.toArray()), model: tri.map((v) => this.model.toModel(v)) };
  }

  /** The first thing on the ray through the centre of the view: a (visible) avatar or the model. */
  centerHit() {
    const rc = new THREE.Raycaster();
    rc.setFromCamera(new THREE.Vector2(0, 0), this.viewer.camera);
    const shown = (o) => { for (let x = o; x; x = x.parent) if (!x.visible) return false; return true; };
    const avatar = rc.intersectObject(this.avatars.group, true).find((h) => h.object.isMesh && shown(h.object));
    const model = this.model.pickPrecise(new THREE.Vector2(0, 0));
    const md = model ? model.point.distanceTo(rc.ray.origin) : Infinity;
    if (avatar && avatar.distance < md) return { first: 'avatar', distance: avatar.distance };
    const cls = model?.part ? this.model.partInfo(model.part)?.ifc_class ?? null : null;
    return model ? { first: 'model', distance: md, part: model.part ?? null, ifc_class: cls } : { first: null };
  }

  /** Read-only snapshot for tests and diagnostics (window.__vrcollab.info()). */
  info() {
    const c = this.conn;
    return {
      state: c.state, role: c.welcome ? c.role : null, session_id: c.sessionId, seq: c.mirror.seq,
      user_id: c.welcome?.user?.user_id ?? null,
      pending: c.outbox.size, stats: { ...c.stats }, last_error: c.lastError,
      participants: [...c.participants.values()],
      annotations: annotationList(c.mirror.view), nodes: c.mirror.view.nodes,
      sections: c.mirror.view.sections, presenter: c.mirror.view.presenter,
      model: this.model.summary(), model_error: this.modelError ?? null,
      scene: {
        ...this.viewer.stats, rendered: this.viewer.rendered, xr: this.xr.mode,
        flying: Boolean(this.viewer.flight), clipping: this.viewer.renderer.clippingPlanes.length,
        grabbing: Boolean(this.xr.grab),
        background: this.viewer.scene.background ? `#${this.viewer.scene.background.getHexString()}` : null,
      },
      avatars: this.avatars.describe(), timings: { ...this.timings },
      xr_support: this.xrSupport ?? null,
      world: this.model.bounds ? {
        center: this.model.bounds.getCenter(new THREE.Vector3()).toArray(),
        size: this.model.bounds.getSize(new THREE.Vector3()).toArray(),
        rig: this.viewer.rig.position.toArray(),
      } : null,
      camera: this.viewer.camera.getWorldPosition(new THREE.Vector3()).toArray(),
      following: this.following,
      own_view: this.own.describe(),
      measurements: this.measurements.describe(),
      snapshots: { taken: this.snapshots ?? 0, stored: this.snapshotsStored ?? 0 },
      measure: this.measure.lastSnap ? {
        kind: this.measure.lastSnap.kind, point: this.model.toModel(this.measure.lastSnap.point), started: Boolean(this.measure.start),
      } : null,
      // Model space, like poses and annotations.
      view_link: this.lastViewLink ?? null,
      color_legend: this.colorLegend ?? null,
      xr_draft: this.xrDraft.draft ? { ...this.xrDraft.describe(), point: this.model.toModel(this.xrDraft.draft.point) } : null,
      members: this.members,
      selected: this.selected,
      tool: this.tool,
    };
  }
}
