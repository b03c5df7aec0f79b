// Tiled models (manifest version 2, docs/tiles.md): the OGC 3D Tiles 1.1 tileset streamed with
// 3d-tiles-renderer (screen-space-error LOD at the device's error target, frustum culling, LRU
// cache), meshopt decoded in workers, feature-id picking into the element table, and
// per-element state (hide, isolate, colour, highlight) read by every tile material from one
// element-state texture, so tiles that stream in later show the room's state as they appear.
// An element that is moved is split out of its batch into its own mesh (drawn from the finest
// loaded tile that holds it) and hidden in the tiles.
import * as THREE from 'three';
import { TilesRenderer } from '3d-tiles-renderer';
import { GLTFExtensionsPlugin } from '3d-tiles-renderer/plugins';
import { ElementTable } from './elements.js';
import {
  elementIndices, elementAtHit, stateTextureSize, packElementState, drawnInTiles, elementVisible,
  trianglesOf,
} from './features.js';
import { BVHQueue } from './bvh.js';
import { isSoftwareRenderer, nextErrorTarget, selection } from './tilebudget.js';

/** Default error targets (pixels) when the manifest's device report has none (T7). */
const DEFAULT_SSE = { desktop: 8, quest3: 16, quest2: 16, phone: 24 };
/** Tile cache per device class (bytes of GPU geometry kept, LRU beyond that). */
const CACHE_BYTES = { desktop: 600e6, quest3: 300e6, quest2: 200e6, phone: 150e6 };
/** Triangle budgets (drawn, in view) when the manifest's device report has none (T7). */
const DEFAULT_TRIANGLES = { desktop: 10e6, quest3: 750e3, quest2: 500e3, phone: 300e3 };
/**
 * Budget of a browser without a GPU (SwiftShader, llvmpipe: WebGL rasterised on the CPU, every
 * frame read back for the compositor). At 2 cores that costs ~1 s per 300k triangles, so such a
 * page gets the coarse levels; a close-up of one leaf still fits.
 */
const SOFTWARE_TRIANGLES = 300e3;

const _m = new THREE.Matrix4();

/** Reads a scalar vertex attribute (plain or interleaved) into a Float32Array. */
function readScalar(attr) {
  const n = attr.count;
  const out = new Float32Array(n);
  if (!attr.isInterleavedBufferAttribute && attr.itemSize === 1 && !attr.normalized) {
    out.set(attr.array.subarray(0, n));
    return out;
  }
  for (let i = 0; i < n; i += 1) out[i] = attr.getX(i);
  return out;
}

/**
 * GLTFLoader plugin: reads the tile's property table (tile-local feature id -> global element
 * index, T4) and gives every mesh an `elementIndex` attribute (per vertex, or per instance).
 */
class ElementFeaturesPlugin {
  constructor(parser) {
    this.parser = parser;
    this.name = 'VRCOLLAB_element_features';
  }

  async afterRoot(result) {
    const ext = this.parser.json.extensions?.EXT_structural_metadata;
    const table = ext?.propertyTables?.[0];
    const view = table?.properties?.element?.values;
    let map = new Uint32Array(0);
    if (Number.isInteger(view)) {
      const buf = await this.parser.getDependency('bufferView', view);
      map = new Uint32Array(buf.slice(0, Math.min(buf.byteLength, (table.count ?? 0) * 4)));
    }
    // (timed from here: the wait for the buffer view is the decoder's, not this thread's)
    const started = performance.now();
    const scene = result.scene;
    scene.userData.featureToElement = map;
    scene.traverse((o) => {
      if (!o.isMesh) return;
      if (o.isInstancedMesh) {
        const attr = o.geometry.attributes._FEATURE_ID_0;
        if (!attr) return;
        const perInstance = elementIndices(readScalar(attr), map);
        // The instanced geometry may be shared: give this mesh its own attribute set.
        const g = new THREE.BufferGeometry();
        for (const [name, a] of Object.entries(o.geometry.attributes)) if (name !== '_FEATURE_ID_0') g.setAttribute(name, a);
        g.setIndex(o.geometry.index);
        g.boundingBox = o.geometry.boundingBox;
        g.boundingSphere = o.geometry.boundingSphere;
        g.setAttribute('elementIndex', new THREE.InstancedBufferAttribute(perInstance, 1));
        o.geometry = g;
        o.userData.instanceElements = perInstance;
      } else {
        const attr = o.geometry.attributes._feature_id_0;
        if (!attr) return;
        const perVertex = elementIndices(readScalar(attr), map);
        o.geometry.setAttribute('elementIndex', new THREE.BufferAttribute(perVertex, 1));
        o.geometry.deleteAttribute('_feature_id_0');
        o.userData.vertexElements = perVertex;
      }
    });
    scene.userData.featureMs = performance.now() - started;
  }
}

/** Shader hooks shared by all tile materials: element state texture + hover/selection. */
function patchMaterial(mat, uniforms, split) {
  if (mat.userData.elementPatched) return;
  mat.userData.elementPatched = true;
  // Double-sided transparent materials (glazing) would cost two draw calls per mesh (back then
  // front faces); the device report counts one.
  if (mat.transparent && mat.side === THREE.DoubleSide) mat.forceSinglePass = true;
  mat.onBeforeCompile = (shader) => {
    Object.assign(shader.uniforms, uniforms);
    shader.vertexShader = shader.vertexShader
      .replace('#include <common>', `#include <common>
attribute float elementIndex;
uniform highp sampler2D elementState;
uniform int elementStateWidth;
uniform float hoverElement;
uniform float selectedElement;
varying vec4 vElementState;
varying float vElementHighlight;`)
      .replace('#include <begin_vertex>', `#include <begin_vertex>
{
  vElementState = vec4(0.0);
  if (elementIndex >= 0.0) {
    int ei = int(elementIndex + 0.5);
    vElementState = texelFetch(elementState, ivec2(ei % elementStateWidth, ei / elementStateWidth), 0);
  }
  vElementHighlight = abs(elementIndex - selectedElement) < 0.5 ? 2.0 : (abs(elementIndex - hoverElement) < 0.5 ? 1.0 : 0.0);
}`);
    shader.fragmentShader = shader.fragmentShader
      .replace('#include <common>', `#include <common>
varying vec4 vElementState;
varying float vElementHighlight;`)
      .replace('#include <color_fragment>', `#include <color_fragment>
{
  float ef = floor(vElementState.a * 255.0 + 0.5);
  if (mod(ef, 2.0) >= 1.0) discard;
  ${split ? '' : 'if (mod(floor(ef / 4.0), 2.0) >= 1.0) discard;'}
  if (mod(floor(ef / 2.0), 2.0) >= 1.0) diffuseColor.rgb = sRGBTransferEOTF(vec4(vElementState.rgb, 1.0)).rgb;
}`)
      .replace('#include <dithering_fragment>', `#include <dithering_fragment>
if (vElementHighlight > 1.5) gl_FragColor.rgb = mix(gl_FragColor.rgb, vec3(0.94, 0.71, 0.16), 0.45);
else if (vElementHighlight > 0.5) gl_FragColor.rgb = mix(gl_FragColor.rgb, vec3(0.24, 0.55, 0.99), 0.4);`);
  };
  mat.customProgramCacheKey = () => (split ? 'vrcollab-element-split' : 'vrcollab-element');
  mat.needsUpdate = true;
}

/** Whether two byte arrays of one length hold the same bytes. */
function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

/** Matrix of `obj` relative to `stop` (an ancestor), from local matrices (works off-scene). */
function relativeMatrix(obj, stop, out = new THREE.Matrix4()) {
  out.identity();
  for (let o = obj; o && o !== stop; o = o.parent) {
    if (o.matrixAutoUpdate) o.updateMatrix();
    out.premultiply(o.matrix);
  }
  return out;
}

export class TiledModel {
  /**
   * @param {import('./model.js').ModelView} view  owner: root group, viewer, auth, callbacks
   */
  constructor(view) {
    this.view = view;
    this.viewer = view.viewer;
    this.tiles = null;
    this.elements = null;
    this.splits = new Map(); // element row -> {pivot, meshes, error}
    this.nodes = {};
    this.isolated = null;
    this.counts = { hidden: 0, tinted: 0, moved: 0 };
    this.bvh = new BVHQueue();
    this.loadedTiles = 0;
    this.firstTileMs = null;
    this.fullDetailMs = null;
    this.tileTimes = [];
    this.uniforms = {
      elementState: { value: null },
      elementStateWidth: { value: 1 },
      hoverElement: { value: -1 },
      selectedElement: { value: -1 },
    };
  }

  async _json(url) {
    const res = await fetch(url, { headers: this.view.authHeaders() });
    if (!res.ok) throw new Error(`${url.split('/').pop()}: HTTP ${res.status}`);
    return res.json();
  }

  async _buffer(url) {
    const res = await fetch(url, { headers: this.view.authHeaders() });
    if (!res.ok) throw new Error(`${url.split('/').pop()}: HTTP ${res.status}`);
    return res.arrayBuffer();
  }

  /** Start streaming: element table, state texture, tiles renderer. */
  async load(manifest, manifestUrl, deviceClass, decoder) {
    this.manifest = manifest;
    this.deviceClass = deviceClass;
    const t0 = performance.now();
    this.t0 = t0;
    // The element table loads beside the tiles (first frame does not wait for it); the state
    // texture is sized from the manifest's element count.
    this.count = Number.isInteger(manifest.elements?.count) ? manifest.elements.count : 0;
    this.elementsReady = ElementTable.load(manifest, manifestUrl, (u) => this._json(u), (u) => this._buffer(u), location.href)
      .then((table) => {
        if (table.count !== this.count) throw new Error(`element table has ${table.count} rows, manifest says ${this.count}`);
        this.elements = table;
        this.timings.elements_ms = performance.now() - t0;
        this.applyState();
        this._checkDone();
        return table;
      });
    this.elementsReady.catch((err) => console.error('element table', err));
    const { width, height } = stateTextureSize(this.count);
    this.stateData = new Uint8Array(width * height * 4);
    this.stateTexture = new THREE.DataTexture(this.stateData, width, height, THREE.RGBAFormat, THREE.UnsignedByteType);
    this.stateTexture.needsUpdate = true;
    this._stateUploaded = true; // all zeros: nothing hidden, tinted or moved
    this.uniforms.elementState.value = this.stateTexture;
    this.uniforms.elementStateWidth.value = width;

    const url = new URL(manifest.tileset ?? 'tileset.json', new URL(manifestUrl, location.href)).href;
    const tiles = new TilesRenderer(url);
    this.tiles = tiles;
    tiles.fetchOptions = { headers: this.view.authHeaders() };
    tiles.registerPlugin(new GLTFExtensionsPlugin({
      meshoptDecoder: decoder, metadata: false, rtc: false,
      plugins: [(parser) => new ElementFeaturesPlugin(parser)],
    }));
    // Before a tile goes on screen: element shader hooks on its materials, and its shader
    // programs compiled (in parallel where the driver offers KHR_parallel_shader_compile), so
    // the frame that shows it does not stall on a synchronous compile.
    tiles.registerPlugin({
      name: 'VRCOLLAB_PREPARE_TILE',
      processTileModel: async (scene) => {
        scene.traverse((o) => {
          if (!o.isMesh) return;
          for (const m of Array.isArray(o.material) ? o.material : [o.material]) patchMaterial(m, this.uniforms, false);
        });
        try {
          await this.viewer.renderer.compileAsync(scene, this.viewer.camera, this.viewer.scene);
        } catch {
          // an optimisation only
        }
      },
    });
    const dev = manifest.devices?.[deviceClass];
    // The device's error target is a floor; the triangle budget may raise it (tilebudget.js).
    this.baseError = Number.isFinite(dev?.sse) ? dev.sse : (DEFAULT_SSE[deviceClass] ?? 8);
    this.software = isSoftwareRenderer(this._rendererName());
    const budget = Number.isFinite(dev?.budget_triangles) ? dev.budget_triangles : (DEFAULT_TRIANGLES[deviceClass] ?? DEFAULT_TRIANGLES.desktop);
    this.triangleBudget = this.software ? Math.min(budget, SOFTWARE_TRIANGLES) : budget;
    // Coarse first: the root tile alone until the budget has judged what refining would cost
    // (a first traversal at the device target would queue every leaf in view, and the renderer
    // keeps loading tiles it once used while their parent is not loaded yet).
    tiles.errorTarget = Number.isFinite(this.triangleBudget) ? Infinity : this.baseError;
    // One tile parsed at a time: tile contents reach the scene on separate frames, so no frame
    // pays for several tiles' uploads, feature ids and shader hooks at once. (3d-tiles-renderer
    // shares its default parse queue between renderers; the client runs one at a time.)
    tiles.parseQueue.maxJobs = 1;
    tiles.maxDepth = Infinity;
    tiles.lruCache.maxBytesSize = CACHE_BYTES[deviceClass] ?? CACHE_BYTES.desktop;
    tiles.lruCache.minBytesSize = tiles.lruCache.maxBytesSize * 0.75;
    // Tile contents are +Y up; the runtime turns them into the Z-up tileset frame; the group
    // turns that back so the scene is Y-up and equal to the glTF frame (T2).
    tiles.group.rotation.x = -Math.PI / 2;
    tiles.group.name = 'tiles';
    this.view.root.add(tiles.group);
    tiles.group.updateMatrixWorld(true);
    this.bounds = this._sceneBounds(manifest);
    const view = {};
    this._inView = (tile) => {
      if (!tile.engineData?.boundingVolume) return true;
      tiles.calculateTileViewError(tile, view);
      return Boolean(view.inView);
    };
    this._camera = null;
    tiles.addEventListener('load-model', ({ scene, tile }) => this._onTile(scene, tile));
    // A tile arrived or left: traverse again on the next animation frame; draw only when the
    // traversal changes what is shown (a tile shown or hidden, a model added or disposed).
    this._needsUpdate = true;
    tiles.addEventListener('needs-update', () => { this._needsUpdate = true; });
    tiles.addEventListener('tile-visibility-change', () => this.viewer.invalidate());
    tiles.addEventListener('dispose-model', () => this.viewer.invalidate());
    tiles.addEventListener('load-error', ({ tile, error }) => {
      console.error('tile', error);
      // The tileset itself, or the only tile, failed: the model cannot be shown.
      if (!tile || (!this.loadedTiles && !tile.children?.length)) this.view.onTilesError?.(error);
    });
    tiles.addEventListener('tiles-load-end', () => {
      this._needsUpdate = true;
      this._checkDone();
    });
    this.timings = {};
    this.viewer.invalidate();
  }

  /** Manifest bounds (Z-up world) as a Box3 in the scene (Y-up) frame. */
  _sceneBounds(manifest) {
    const b = manifest.bounds;
    if (!b?.min || !b?.max) return new THREE.Box3();
    const box = new THREE.Box3(new THREE.Vector3(...b.min), new THREE.Vector3(...b.max));
    this.tiles.group.updateMatrix();
    return box.applyMatrix4(_m.copy(this.tiles.group.matrix).premultiply(this.view.root.matrixWorld));
  }

  _onTile(scene, tile) {
    this.loadedTiles += 1;
    const now = performance.now();
    this._tileJs(scene.userData.featureMs ?? 0);
    if (this.firstTileMs === null) this.firstTileMs = now - this.t0;
    this.tileTimes.push(now - this.t0);
    scene.traverse((o) => {
      if (!o.isMesh) return;
      const mats = Array.isArray(o.material) ? o.material : [o.material];
      for (const m of mats) patchMaterial(m, this.uniforms, false);
      o.userData.tile = tile;
    });
    scene.userData.geometricError = tile.geometricError ?? 0;
    this.bvh.addObject(scene);
    // An element moved out of its batch is redrawn from the finest tile that holds it.
    const map = scene.userData.featureToElement;
    for (const [e, s] of this.splits) {
      if (map && map.includes(e) && (s.error === null || scene.userData.geometricError < s.error)) this._buildSplit(e, s, scene);
    }
    this._pendingSplits();
    this.view.onTileLoaded?.();
    this.viewer.invalidate();
    this._tileJs(performance.now() - now);
  }

  /** Longest synchronous client step per tile (feature ids, state hooks, split refresh). */
  _tileJs(ms) {
    this.tileJsMaxMs = Math.max(this.tileJsMaxMs ?? 0, ms);
  }

  _checkDone() {
    const t = this.tiles;
    // Full detail: the tiles the view needs, and the element table (hover, panels).
    if (!t || this.fullDetailMs !== null || !this.loadedTiles || !this.elements) return;
    const s = t.stats;
    if (!t.isLoading && !s.downloading && !s.parsing && !s.queued) {
      this.fullDetailMs = performance.now() - this.t0;
      this.view.onTilesDone?.();
    }
  }

  /**
   * Per animation frame: traverse when a frame will be drawn (camera moved, state changed),
   * when the renderer asked for it, or while tiles stream; otherwise nothing.
   */
  tick() {
    const t = this.tiles;
    if (!t) return;
    const streaming = t.isLoading || t.stats.downloading || t.stats.parsing || t.stats.queued;
    if (!(this.viewer.drawPending || this._needsUpdate || streaming)) return;
    this._needsUpdate = false;
    this.update();
  }

  /** LOD traversal for the current (XR or desktop) camera. */
  update() {
    const t = this.tiles;
    if (!t) return;
    const xr = this.viewer.renderer.xr;
    const cam = xr.isPresenting ? xr.getCamera() : this.viewer.camera;
    if (cam !== this._camera) {
      if (this._camera) t.deleteCamera(this._camera);
      t.setCamera(cam);
      this._camera = cam;
    }
    t.setResolutionFromRenderer(cam, this.viewer.renderer);
    cam.updateMatrixWorld();
    t.update();
    // Within the triangle budget: re-run the traversal while the error target moves (a few
    // tiles at most; the traversal itself is cheap next to drawing the wrong tiles).
    for (let i = 0; i < 4; i += 1) {
      const next = nextErrorTarget(t.root, t.frameCount, t.errorTarget, this.baseError, this.triangleBudget, this._inView);
      if (next === t.errorTarget) break;
      t.errorTarget = next;
      t.update();
      this._dropUnused();
    }
    this._checkDone();
  }

  get loaded() {
    return this.loadedTiles > 0;
  }

  /**
   * Cancel tile loads the last traversal did not use (the renderer itself only drops QUEUED
   * ones): a raised error target leaves no level downloading for nothing.
   */
  _dropUnused() {
    const t = this.tiles;
    const drop = [];
    for (const tile of t.loadingTiles ?? []) {
      const tr = tile.traversal;
      if (!(tr && tr.lastFrameVisited === t.frameCount && tr.used)) drop.push(tile);
    }
    for (const tile of drop) t.lruCache.remove(tile);
  }

  /** The WebGL renderer's name (unmasked where the browser allows), '' when unknown. */
  _rendererName() {
    try {
      const gl = this.viewer.renderer.getContext();
      const ext = gl.getExtension('WEBGL_debug_renderer_info');
      return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    } catch {
      return '';
    }
  }

  // ---- element identity and info ------------------------------------------------------------

  indexOf(key) {
    return this.elements ? this.elements.indexOf(key) : -1;
  }

  partInfo(key) {
    const i = this.indexOf(key);
    const row = i >= 0 ? this.elements.row(i) : null;
    if (!row) return null;
    const props = this.elements.cachedProperties(i);
    if (props === undefined) {
      this.elements.properties(i).then(() => this.view.onPartInfo?.(key)).catch(() => {});
    }
    return {
      name: row.name ?? key, node: key, element_id: row.element_id, ifc_class: row.ifc_class,
      container: row.container, index: i, properties: props ?? null,
    };
  }

  // ---- picking ------------------------------------------------------------------------------

  _elementOf(obj, hit) {
    if (Number.isInteger(obj.userData.splitElement)) return obj.userData.splitElement;
    return elementAtHit(obj.userData.vertexElements, obj.userData.instanceElements, hit.face, hit.instanceId);
  }

  /** Filter raw raycast hits to the nearest visible element; {point, normal, part, element}. */
  resolve(hits) {
    const clipping = this.viewer.renderer.clippingPlanes;
    for (const h of hits) {
      const e = this._elementOf(h.object, h);
      if (e < 0) continue;
      const split = Number.isInteger(h.object.userData.splitElement);
      if (split ? !elementVisible(this.stateData, e) : !drawnInTiles(this.stateData, e)) continue;
      if (clipping.some((p) => p.distanceToPoint(h.point) < 0)) continue;
      const normal = h.face ? h.face.normal.clone().transformDirection(h.object.matrixWorld) : new THREE.Vector3(0, 1, 0);
      return { point: h.point.clone(), normal, part: this.elements?.key(e) ?? null, element: e, object: h.object, distance: h.distance, face: h.face ?? null, instanceId: h.instanceId, batchId: h.batchId };
    }
    return null;
  }

  pickRay(origin, dir) {
    if (!this.tiles) return null;
    const v = this.viewer;
    // With hidden or moved elements the nearest triangle may not count: collect every hit.
    v.allHits = this.counts.hidden > 0 || this.splits.size > 0;
    const hits = [...v.pickRay(origin, dir, this.tiles.group, 0)];
    for (const s of this.splits.values()) hits.push(...v.pickRay(origin, dir, s.pivot, 0));
    v.allHits = false;
    hits.sort((a, b) => a.distance - b.distance);
    return this.resolve(hits);
  }

  pickScreen(ndc) {
    const rc = this.viewer.raycaster;
    rc.setFromCamera(ndc, this.viewer.camera);
    return this.pickRay(rc.ray.origin.clone(), rc.ray.direction.clone());
  }

  // ---- state --------------------------------------------------------------------------------

  setNodeState(nodes, skip = null) {
    this.nodes = nodes ?? {};
    this.skip = skip;
    this.applyState();
  }

  isolate(keys) {
    this.isolated = keys ? new Set(keys.map((k) => this.indexOf(k)).filter((i) => i >= 0)) : null;
    this.applyState();
  }

  setHover(key) {
    this.uniforms.hoverElement.value = key ? this.indexOf(key) : -1;
    this.viewer.invalidate();
  }

  setSelected(key) {
    this.uniforms.selectedElement.value = key ? this.indexOf(key) : -1;
    this.viewer.invalidate();
  }

  /** Rebuild the element-state texture; split out elements the room has moved. */
  applyState() {
    if (!this.elements) return;
    for (const [key, st] of Object.entries(this.nodes)) {
      if (!st?.transform) continue;
      const e = this.indexOf(key);
      if (e >= 0 && !this.splits.has(e)) this._split(e);
    }
    for (const [e, s] of this.splits) {
      if (this.elements.key(e) === this.skip) continue;
      const t = this.nodes[this.elements.key(e)]?.transform;
      if (t) _m.fromArray(t);
      else _m.identity();
      _m.decompose(s.pivot.position, s.pivot.quaternion, s.pivot.scale);
    }
    const next = (this._stateScratch ??= new Uint8Array(this.stateData.length));
    this.counts = packElementState(next, this.elements.count, this.nodes, (k) => this.indexOf(k), this.isolated, new Set(this.splits.keys()));
    // Unchanged state (the table arriving with nothing hidden, tinted or moved): no upload, and
    // no frame drawn for it.
    // (Split-out elements may have moved: those always draw.)
    if (this._stateUploaded && !this.splits.size && equalBytes(next, this.stateData)) return;
    this.stateData.set(next);
    this._stateUploaded = true;
    this.stateTexture.needsUpdate = true;
    this.viewer.invalidate();
  }

  // ---- split-out elements (move) ------------------------------------------------------------

  /** The element's own object (split out of its batch on first use), in model space. */
  displayObject(key) {
    const e = this.indexOf(key);
    if (e < 0 || !this.tiles) return null;
    let s = this.splits.get(e);
    if (!s) {
      s = this._split(e);
      this.applyState();
    }
    return s.meshes.length ? s.pivot : null;
  }

  _split(e) {
    const pivot = new THREE.Group();
    pivot.name = `element:${this.elements.key(e)}`;
    pivot.userData.partName = this.elements.key(e);
    this.view.root.add(pivot);
    const s = { pivot, meshes: [], error: null };
    this.splits.set(e, s);
    // The finest loaded tile that holds the element.
    let best = null;
    this.tiles.forEachLoadedModel((scene) => {
      const map = scene.userData.featureToElement;
      if (!map || !map.includes(e)) return;
      if (!best || scene.userData.geometricError < best.userData.geometricError) best = scene;
    });
    if (best) this._buildSplit(e, s, best);
    return s;
  }

  /** Splits requested before any tile holding the element had arrived. */
  _pendingSplits() {
    for (const [e, s] of this.splits) if (!s.meshes.length) {
      this.splits.delete(e);
      s.pivot.removeFromParent();
      this._split(e);
    }
  }

  _buildSplit(e, s, scene) {
    for (const m of s.meshes) {
      m.removeFromParent();
      m.geometry.dispose();
    }
    s.meshes = [];
    s.error = scene.userData.geometricError ?? 0;
    const group = this.tiles.group;
    group.updateMatrix();
    scene.updateMatrixWorld(true);
    scene.traverse((o) => {
      if (!o.isMesh || !o.geometry.attributes.position) return;
      // Tile scene chain (the scene is off the group while not visible), then the group.
      const toModel = relativeMatrix(o, scene.parent).premultiply(group.matrix);
      const mats = Array.isArray(o.material) ? o.material : [o.material];
      const material = mats[0].clone();
      patchMaterial(material, this.uniforms, true);
      if (o.isInstancedMesh) {
        const inst = o.userData.instanceElements;
        if (!inst) return;
        for (let k = 0; k < inst.length; k += 1) {
          if (inst[k] !== e) continue;
          const g = new THREE.BufferGeometry();
          for (const [name, a] of Object.entries(o.geometry.attributes)) if (name !== 'elementIndex') g.setAttribute(name, a);
          g.setIndex(o.geometry.index);
          g.setAttribute('elementIndex', new THREE.BufferAttribute(new Float32Array(g.attributes.position.count).fill(e), 1));
          const mesh = new THREE.Mesh(g, material);
          o.getMatrixAt(k, _m);
          mesh.matrixAutoUpdate = false;
          mesh.matrix.multiplyMatrices(toModel, _m);
          this._addSplitMesh(s, mesh, e);
        }
        return;
      }
      const ve = o.userData.vertexElements;
      if (!ve) return;
      const index = o.geometry.index ? o.geometry.index.array : null;
      const tris = trianglesOf(ve, index, e);
      if (!tris.length) return;
      const idx = new Uint32Array(tris.length * 3);
      tris.forEach((t, j) => {
        for (let c = 0; c < 3; c += 1) idx[j * 3 + c] = index ? index[t + c] : t + c;
      });
      const g = new THREE.BufferGeometry();
      for (const [name, a] of Object.entries(o.geometry.attributes)) g.setAttribute(name, a);
      g.setIndex(new THREE.BufferAttribute(idx, 1));
      g.computeBoundingBox();
      g.computeBoundingSphere();
      const mesh = new THREE.Mesh(g, material);
      mesh.matrixAutoUpdate = false;
      mesh.matrix.copy(toModel);
      this._addSplitMesh(s, mesh, e);
    });
    this.viewer.invalidate();
  }

  _addSplitMesh(s, mesh, e) {
    mesh.userData.splitElement = e;
    mesh.userData.partName = this.elements.key(e);
    mesh.frustumCulled = false;
    s.pivot.add(mesh);
    s.meshes.push(mesh);
    this.bvh.addObject(mesh);
  }

  /** The current model-space matrix of an element (identity when it never moved). */
  partMatrix(key) {
    const e = this.indexOf(key);
    if (e < 0) return null;
    const s = this.splits.get(e);
    if (!s) return Array.from(new THREE.Matrix4().elements);
    s.pivot.updateMatrix();
    return Array.from(s.pivot.matrix.elements);
  }

  /** How an element is drawn (test hook). */
  describe(key) {
    const e = this.indexOf(key);
    if (e < 0) return null;
    const f = this.stateData[e * 4 + 3];
    const s = this.splits.get(e);
    return {
      element: e, split: Boolean(s), split_meshes: s?.meshes.length ?? 0, drawn_in_tiles: drawnInTiles(this.stateData, e),
      visible: elementVisible(this.stateData, e), flags: f,
      tint: f & 2 ? `#${[0, 1, 2].map((c) => this.stateData[e * 4 + c].toString(16).padStart(2, '0')).join('')}` : null,
    };
  }

  summary() {
    const t = this.tiles;
    let drawnTriangles = 0;
    let visibleTiles = 0;
    if (t) {
      for (const tile of t.visibleTiles) {
        visibleTiles += 1;
        tile.engineData?.scene?.traverse((o) => {
          if (o.isMesh && o.geometry.index) drawnTriangles += (o.geometry.index.count / 3) * (o.isInstancedMesh ? o.count : 1);
        });
      }
    }
    return {
      tiled: true,
      elements: this.count ?? 0,
      element_table: Boolean(this.elements),
      // where the table was decoded ('worker' or 'main') and how long that took there
      element_table_decoded_in: this.elements?.decodedIn ?? null,
      element_table_decode_ms: this.elements?.decodeMs == null ? null : Math.round(this.elements.decodeMs),
      error_target: t?.errorTarget ?? null,
      base_error_target: this.baseError ?? null,
      triangle_budget: Number.isFinite(this.triangleBudget) ? this.triangleBudget : null,
      software_renderer: Boolean(this.software),
      quality: this.viewer.quality ?? null, // 'low' (no MSAA) on a software renderer
      triangles_selected: t?.root ? selection(t.root, t.frameCount).triangles : null,
      tiles_loaded: this.loadedTiles,
      tiles_visible: visibleTiles,
      triangles_drawn: Math.round(drawnTriangles),
      first_tile_ms: this.firstTileMs === null ? null : Math.round(this.firstTileMs),
      full_detail_ms: this.fullDetailMs === null ? null : Math.round(this.fullDetailMs),
      tile_js_max_ms: Math.round((this.tileJsMaxMs ?? 0) * 10) / 10,
      stats: t ? { ...t.stats } : null,
      cached_bytes: t?.lruCache?.cachedBytes ?? null,
      state: { ...this.counts },
      splits: this.splits.size,
      property_chunks: this.elements?.chunks.fetches ?? 0,
      bvh: this.bvh.summary(),
    };
  }

  dispose() {
    for (const s of this.splits.values()) {
      s.pivot.removeFromParent();
      for (const m of s.meshes) m.geometry.dispose();
    }
    this.splits.clear();
    if (this.tiles) {
      this.tiles.group.removeFromParent();
      this.tiles.dispose();
    }
    this.tiles = null;
    this.stateTexture?.dispose();
  }
}

