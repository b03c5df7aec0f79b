// The reviewed model: progressive level loading (coarsest first, then the level the manifest
// recommends for this device), the part index (glTF node name -> objects in every loaded level),
// durable node state (transform / visible / colour), hover highlight and picking.
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { MeshoptDecoder } from 'three/addons/libs/meshopt_decoder.module.js';
import { loadPlan, levelUrl } from '../state/lod.js';
import { PICK_LAYER } from './viewer.js';
import { LevelBatches } from './batches.js';
import { BVHQueue } from './bvh.js';
import { TiledModel } from './tiles.js';

const HIGHLIGHT = new THREE.MeshBasicMaterial({
  color: 0x3d8bfd, transparent: true, opacity: 0.35, depthFunc: THREE.LessEqualDepth,
  polygonOffset: true, polygonOffsetFactor: -1, polygonOffsetUnits: -1,
});
const SELECTED = HIGHLIGHT.clone();
SELECTED.color.set(0xf0b429);
SELECTED.opacity = 0.4;

let decoderReady = null;
function decoder() {
  if (!decoderReady) {
    decoderReady = MeshoptDecoder.ready.then(() => {
      // Decode in workers so big levels never block a frame for long.
      const n = Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1));
      MeshoptDecoder.useWorkers(n);
      return MeshoptDecoder;
    });
  }
  return decoderReady;
}

export class ModelView {
  /** `batching: false` draws every part mesh on its own (diagnostics: `?batch=off`). */
  constructor(viewer, { authHeader = null, batching = true } = {}) {
    this.viewer = viewer;
    this.root = new THREE.Group();
    this.root.name = 'model';
    viewer.scene.add(this.root);
    this.display = null; // the level on screen
    this.proxy = null; // the coarse level kept for cheap hover picking
    this.displayLevel = null;
    this.parts = new Map(); // node name -> {name, extras, objects: Set<Object3D>, base: Matrix4}
    this.nodeState = {};
    this.section = null;
    this.isolated = null;
    this.hover = null;
    this.selected = null;
    this.manifest = null;
    this.timings = {};
    this.levelsLoaded = [];
    this.authHeader = authHeader;
    this.loader = new GLTFLoader();
    if (authHeader) this.loader.setRequestHeader({ Authorization: authHeader });
    this.onProgress = null;
    this.onLevel = null;
    this.batching = batching;
    this.batches = null; // LevelBatches of the displayed level
    this.bvh = new BVHQueue(); // raycast acceleration, built in idle slices
    this.tiled = null; // TiledModel for manifest version 2 (docs/tiles.md)
    this.onPartInfo = null; // element properties arrived (tiled path): refresh tooltip/panel
    // Tiles: LOD traversal for the frame's camera, on every animation frame that will be drawn
    // or while tiles stream (a frame is drawn only when it changed what is on screen). Levels:
    // batch instances follow their part meshes (moves, visibility, tints) before every frame.
    viewer.tick = () => this.tiled?.tick();
    viewer.beforeRender = () => {
      if (this.tiled) return;
      if (!this.batches) return;
      this.root.updateMatrixWorld();
      this.batches.sync();
    };
  }

  /** Drop every loaded level and the part index (the room moved to another model version). */
  unload() {
    this.tiled?.dispose();
    this.tiled = null;
    // A tiled load still waiting for its first tile ends (the next model's load waits on it).
    this._tiledPending?.();
    this._tiledPending = null;
    this.onTileLoaded = null;
    this.onTilesDone = null;
    this.onTilesError = null;
    this.batches?.dispose();
    this.batches = null;
    for (const scene of new Set([this.display, this.proxy])) if (scene) this._dispose(scene);
    this.display = null;
    this.proxy = null;
    this.displayLevel = null;
    this.parts.clear();
    this.hover = null;
    this.selected = null;
    this.isolated = null;
    this.manifest = null;
    this.manifestUrl = null;
    this.plan = null;
    this.levelsLoaded = [];
    this.timings = {};
  }

  /** Fetch the manifest, then load the plan's levels in order. */
  async load(manifestUrl, deviceClass) {
    this.manifestUrl = manifestUrl;
    const t0 = performance.now();
    const headers = this.authHeader ? { Authorization: this.authHeader } : {};
    const res = await fetch(manifestUrl, { headers });
    if (!res.ok) throw new Error(`manifest: HTTP ${res.status}`);
    this.manifest = await res.json();
    this.timings.manifest_ms = performance.now() - t0;
    this._orient(this.manifest);
    if (this.manifest.version === 2 && typeof this.manifest.tileset === 'string') {
      await this._loadTiled(manifestUrl, deviceClass, t0);
      return this.manifest;
    }
    const plan = loadPlan(this.manifest, deviceClass);
    this.plan = plan;
    this.loader.setMeshoptDecoder(await decoder());
    for (let i = 0; i < plan.length; i += 1) {
      const level = plan[i];
      const url = levelUrl(manifestUrl, level, location.href);
      const gltf = await this.loader.loadAsync(url, (ev) => this.onProgress?.(level, i, plan.length, ev));
      const tParsed = performance.now() - t0;
      // Compile shaders before the level goes on screen (parallel compile where the GPU
      // driver offers it) so the swap does not stall a frame.
      try {
        await this.viewer.renderer.compileAsync(gltf.scene, this.viewer.camera, this.viewer.scene);
      } catch {
        // compileAsync is an optimisation only
      }
      this._install(gltf, level, i === 0);
      this.levelsLoaded.push({ name: level.name, parsed_ms: tParsed, ms: performance.now() - t0 });
      this.onLevel?.(level, i === plan.length - 1);
    }
    return this.manifest;
  }

  authHeaders() {
    return this.authHeader ? { Authorization: this.authHeader } : {};
  }

  /** Manifest v2: stream the tileset; resolves once the first tile is on screen. */
  async _loadTiled(manifestUrl, deviceClass, t0) {
    const tiled = new TiledModel(this);
    this.tiled = tiled;
    this.plan = [{ name: 'tiles' }];
    const level = { name: 'tiles', triangles: this.manifest.devices?.[deviceClass]?.triangles ?? this.manifest.stats?.triangles ?? null };
    await tiled.load(this.manifest, manifestUrl, deviceClass, await decoder());
    if (this.tiled !== tiled) return;
    this.bounds = tiled.bounds.clone();
    if (!this.bounds.isEmpty()) this.viewer.frameBox(this.bounds, true);
    await new Promise((resolve, reject) => {
      this._tiledPending = resolve;
      this.onTilesError = (error) => {
        if (!this.display) reject(new Error(`tileset: ${error?.message ?? error}`));
      };
      this.onTileLoaded = () => {
        if (!this.display) {
          this.display = tiled.tiles.group;
          this.displayLevel = level;
          this.timings.first_tile_ms = performance.now() - t0;
          this.onLevel?.(level, false);
          resolve();
        }
        const t = tiled.tiles;
        this.onProgress?.(level, 0, 1, { loaded: t.stats.inCache, total: Math.max(1, t.stats.inCache + t.stats.queued + t.stats.downloading + t.stats.parsing) });
      };
      this.onTilesDone = () => {
        // parsed_ms: the first tile decoded; ms: every tile the view needs loaded.
        this.levelsLoaded.push({ name: 'tiles', parsed_ms: this.timings.first_tile_ms, ms: performance.now() - t0 });
        this.onLevel?.(level, true);
      };
      this.viewer.invalidate();
    });
  }

  /**
   * glTF is Y-up; a manifest may declare another up axis (IFC world coordinates are Z-up).
   * The model root carries that rotation, so "model space" in the protocol stays the GLB's own
   * coordinates: pins and avatars live under the root, and world<->model conversions go
   * through toModel / fromModel.
   */
  _orient(manifest) {
    if (manifest.version === 2) {
      // Tiled: model space is the Y-up scene (= the tiles' glTF frame, docs/tiles.md T2).
      this.upAxis = 'Y';
      this.root.quaternion.identity();
      this.root.updateMatrixWorld(true);
      return;
    }
    const declared = String(manifest.up_axis ?? manifest.up ?? '').toUpperCase();
    const up = declared || (manifest.source?.format === 'ifc' ? 'Z' : 'Y');
    this.upAxis = up === 'Z' ? 'Z' : 'Y';
    this.root.quaternion.setFromAxisAngle(new THREE.Vector3(1, 0, 0), this.upAxis === 'Z' ? -Math.PI / 2 : 0);
    this.root.updateMatrixWorld(true);
  }

  /** World point/direction/quaternion -> model space arrays, and back. */
  toModel(v, direction = false) {
    const inv = this.root.matrixWorld.clone().invert();
    const out = new THREE.Vector3().copy(v);
    return (direction ? out.transformDirection(inv) : out.applyMatrix4(inv)).toArray();
  }

  fromModel(a, direction = false) {
    const out = new THREE.Vector3().fromArray(a);
    return direction ? out.transformDirection(this.root.matrixWorld) : out.applyMatrix4(this.root.matrixWorld);
  }

  quatToModel(q) {
    return this.root.quaternion.clone().invert().multiply(q).toArray();
  }

  quatFromModel(a) {
    return this.root.quaternion.clone().multiply(new THREE.Quaternion().fromArray(a));
  }

  _install(gltf, level, first) {
    const scene = gltf.scene;
    scene.name = `level:${level.name}`;
    this._index(gltf, scene);
    for (const part of this.parts.values()) this._applyPart(part);
    this.root.add(scene);
    this.root.updateMatrixWorld(true);
    if (first) {
      const box = new THREE.Box3().setFromObject(scene);
      if (!box.isEmpty()) this.viewer.frameBox(box, true);
      this.bounds = box;
    }
    this.batches?.dispose();
    this.batches = null;
    if (this.display) {
      // The coarse level stays as an invisible pick proxy; anything finer is dropped.
      if (this.display === this.proxy || !this.proxy) {
        this.proxy = this.display;
        this.proxy.traverse((o) => o.layers.set(PICK_LAYER));
      } else {
        this._dispose(this.display);
      }
    }
    this.display = scene;
    this.displayLevel = level;
    this.bvh.addObject(scene);
    // One draw call per material (DESIGN.md §3: ~100 draw calls on a headset).
    if (this.batching) this.batches = new LevelBatches(scene);
    this._refreshHighlights();
  }

  _dispose(scene) {
    scene.removeFromParent();
    scene.traverse((o) => {
      if (o.isMesh) o.geometry.dispose();
    });
    for (const part of this.parts.values()) {
      for (const o of [...part.objects]) if (!o.parent || isUnder(o, scene)) part.objects.delete(o);
    }
  }

  /** Map every part node of a freshly loaded level into the index. */
  _index(gltf, scene) {
    const names = new Set((this.manifest?.parts ?? []).map((p) => p.node));
    const nodesJson = gltf.parser.json.nodes ?? [];
    const original = new Map();
    for (const [obj, assoc] of gltf.parser.associations) {
      if (assoc && Number.isInteger(assoc.nodes)) original.set(obj, nodesJson[assoc.nodes]?.name ?? null);
    }
    const isPart = (o) => {
      const n = original.get(o);
      if (!n) return false;
      if (names.size) return names.has(n);
      return Boolean(o.userData && (o.userData.element_id || o.userData.name)) || o.parent === scene;
    };
    scene.traverse((o) => {
      if (!isPart(o)) return;
      const name = original.get(o);
      o.userData.partName = name;
      let part = this.parts.get(name);
      if (!part) {
        part = { name, extras: { ...o.userData }, objects: new Set(), base: o.matrix.clone() };
        delete part.extras.partName;
        this.parts.set(name, part);
      }
      part.objects.add(o);
      o.traverse((m) => {
        if (m.isMesh) {
          m.userData.partName = name;
          m.userData.baseMaterial = m.material;
        }
      });
    });
  }

  /** The part name a hit object belongs to (nearest ancestor that is a part). */
  partOf(obj) {
    for (let o = obj; o; o = o.parent) if (o.userData?.partName) return o.userData.partName;
    return null;
  }

  /** Pick for hover: cheap proxy if present. Returns {point, normal, part, object} or null. */
  pickHover(ndc) {
    if (this.tiled) return this.tiled.pickScreen(ndc);
    const root = this.proxy ?? this.display;
    if (!root) return null;
    return this._hit(this.viewer.pickScreen(ndc, root, root === this.proxy ? PICK_LAYER : 0));
  }

  /** Precise pick on the displayed level (annotations, selection). */
  pickPrecise(ndc) {
    if (this.tiled) return this.tiled.pickScreen(ndc);
    if (!this.display) return null;
    return this._hit(this.viewer.pickScreen(ndc, this.display, 0));
  }

  /** Precise pick along a world ray (XR controllers). */
  pickRay(origin, dir) {
    if (this.tiled) return this.tiled.pickRay(origin, dir);
    if (!this.display) return null;
    return this._hit(this.viewer.pickRay(origin, dir, this.display, 0));
  }

  _hit(hits) {
    const clipping = this.viewer.renderer.clippingPlanes;
    for (const h of hits) {
      if (h.object.userData.isOverlay) continue;
      if (clipping.some((p) => p.distanceToPoint(h.point) < 0)) continue;
      const normal = h.face
        ? h.face.normal.clone().transformDirection(h.object.matrixWorld)
        : new THREE.Vector3(0, 1, 0);
      const part = this.partOf(h.object);
      return { point: h.point.clone(), normal, part, object: h.object, distance: h.distance, face: h.face ?? null, instanceId: h.instanceId, batchId: h.batchId };
    }
    return null;
  }

  partInfo(name) {
    if (this.tiled) return this.tiled.partInfo(name);
    const part = this.parts.get(name);
    if (!part) return null;
    const meta = (this.manifest?.parts ?? []).find((p) => p.node === name) ?? {};
    return {
      name: part.extras.name ?? name,
      node: name,
      element_id: part.extras.element_id ?? meta.element_id ?? null,
      ifc_class: part.extras.ifc_class ?? meta.ifc_class ?? null,
      properties: part.extras.properties ?? null,
    };
  }

  /** Apply the durable node state of the room (transform / visible / colour). */
  setNodeState(nodes, { skip = null } = {}) {
    this.nodeState = nodes ?? {};
    if (this.tiled) {
      this.tiled.setNodeState(this.nodeState, skip); // draws again only on a change
      return;
    }
    this.viewer.invalidate();
    // `skip`: the part being dragged locally keeps the pose under the user's hand.
    for (const part of this.parts.values()) if (part.name !== skip) this._applyPart(part);
    this._refreshHighlights();
  }

  _applyPart(part) {
    const st = this.nodeState[part.name];
    const isolatedOut = this.isolated && !this.isolated.has(part.name);
    for (const o of part.objects) {
      const m = st?.transform ? new THREE.Matrix4().fromArray(st.transform) : part.base;
      m.decompose(o.position, o.quaternion, o.scale);
      o.visible = (st?.visible ?? true) && !isolatedOut;
      const color = st?.color ?? null;
      o.traverse((mesh) => {
        if (!mesh.isMesh || mesh.userData.isOverlay) return;
        if (color) {
          if (mesh.userData.tintColor !== color) {
            const mat = mesh.userData.baseMaterial.clone();
            mat.color?.set(color);
            mesh.material = mat;
            mesh.userData.tintColor = color;
          }
        } else if (mesh.userData.tintColor) {
          mesh.material.dispose();
          mesh.material = mesh.userData.baseMaterial;
          mesh.userData.tintColor = null;
        }
      });
    }
  }

  /** The part's current local matrix (column-major 16 numbers) on the displayed level. */
  partMatrix(name) {
    if (this.tiled) return this.tiled.partMatrix(name);
    const o = this.displayObject(name);
    if (!o) return null;
    o.updateMatrix();
    return Array.from(o.matrix.elements);
  }

  displayObject(name) {
    if (this.tiled) return this.tiled.displayObject(name);
    const part = this.parts.get(name);
    if (!part || !this.display) return null;
    for (const o of part.objects) if (isUnder(o, this.display)) return o;
    return null;
  }

  /** A tiled model's element-table box [minx, miny, minz, maxx, maxy, maxz] (its world frame:
   * Z-up, recentred) as a Box3 in world space, or null. */
  tableBoxToWorld(b) {
    const group = this.tiled?.tiles?.group;
    if (!b || !group) return null;
    group.updateWorldMatrix(true, false);
    return new THREE.Box3(new THREE.Vector3(b[0], b[1], b[2]), new THREE.Vector3(b[3], b[4], b[5])).applyMatrix4(group.matrixWorld);
  }

  /** A part's bounding box in world space (tiled: from the element table, without splitting the
   * element out of its batch), or null when unknown. */
  elementBox(name) {
    if (this.tiled) return this.tableBoxToWorld(this.tiled.elements?.box(this.tiled.indexOf(name)));
    const obj = this.displayObject(name);
    if (!obj) return null;
    const box = new THREE.Box3().setFromObject(obj);
    return box.isEmpty() ? null : box;
  }

  /** The batch instances drawing a part on the displayed level (test hook), or null. */
  batchState(name) {
    if (this.tiled) return this.tiled.describe(name);
    const o = this.displayObject(name);
    return o && this.batches ? this.batches.describe(o) : null;
  }

  /** Isolate a set of parts (null shows everything again). Local view only. */
  isolate(names) {
    this.isolated = names ? new Set(names) : null;
    if (this.tiled) {
      this.tiled.isolate(names); // draws again only when that changes what is shown
      return;
    }
    this.viewer.invalidate();
    for (const part of this.parts.values()) this._applyPart(part);
  }

  setHover(name) {
    if (this.hover === name) return;
    this.hover = name;
    if (this.tiled) {
      this.tiled.setHover(name);
      return;
    }
    this._refreshHighlights();
  }

  setSelected(name) {
    this.selected = name;
    if (this.tiled) {
      this.tiled.setSelected(name);
      return;
    }
    this._refreshHighlights();
  }

  _refreshHighlights() {
    this.viewer.invalidate();
    this.root.traverse((o) => {
      if (o.userData.isOverlay) o.userData.remove = true;
    });
    const stale = [];
    this.root.traverse((o) => {
      if (o.userData.remove) stale.push(o);
    });
    for (const o of stale) o.removeFromParent();
    const add = (name, mat) => {
      const obj = name && this.displayObject(name);
      if (!obj) return;
      const meshes = [];
      obj.traverse((m) => {
        if (m.isMesh && !m.userData.isOverlay) meshes.push(m);
      });
      for (const m of meshes) {
        const ov = new THREE.Mesh(m.geometry, mat);
        ov.userData.isOverlay = true;
        ov.raycast = () => {};
        m.add(ov);
      }
    };
    add(this.selected, SELECTED);
    if (this.hover !== this.selected) add(this.hover, HIGHLIGHT);
  }

  /** Every level of the plan loaded (tiled: every tile the view needs, and the element table). */
  get fullDetail() {
    return Boolean(this.plan && this.levelsLoaded.length === this.plan.length);
  }

  /** Scene numbers for the HUD and the test hooks. */
  summary() {
    return {
      manifest_url: this.manifestUrl ?? null,
      source_sha256: this.manifest?.source?.sha256 ?? null,
      level: this.displayLevel?.name ?? null,
      up_axis: this.upAxis ?? null,
      triangles: this.displayLevel?.triangles ?? null,
      parts: this.tiled ? (this.tiled.count ?? 0) : this.parts.size,
      levels_loaded: this.levelsLoaded.map((l) => l.name),
      level_times: this.levelsLoaded.map((l) => ({ name: l.name, parsed_ms: Math.round(l.parsed_ms), ready_ms: Math.round(l.ms) })),
      manifest_ms: Math.round(this.timings.manifest_ms ?? 0),
      full_detail: this.fullDetail,
      materials: this.displayLevel?.materials ?? null,
      bvh: this.bvh.summary(),
      tiles: this.tiled ? this.tiled.summary() : null,
      batching: this.batches
        ? { ...this.batches.summary(), multi_draw: this.viewer.renderer.extensions.has('WEBGL_multi_draw') }
        : null,
    };
  }
}

function isUnder(o, root) {
  for (let p = o; p; p = p.parent) if (p === root) return true;
  return false;
}
