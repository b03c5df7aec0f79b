// Feature ids of tiled models (docs/tiles.md T4) and per-element display state, as plain
// arrays (no three.js here: unit-tested with node --test).
//
// A tile's primitives carry `_FEATURE_ID_0` (tile-local feature id per vertex; per instance
// for instanced meshes); the tile's property table maps it to the global element index, the row
// of the element table. The client turns that into one `elementIndex` value per vertex (or per
// instance) when a tile arrives, so a raycast hit resolves its element from `face.a`.
//
// Display state (hide, isolate, colour override, moved out of its batch) is one RGBA8 texel per
// element in a texture every tile material reads in its shader: a state change is one texture
// upload, and tiles that stream in later get the state for free.

export const FLAG_HIDDEN = 1;
export const FLAG_TINT = 2;
export const FLAG_MOVED = 4; // drawn by its own mesh (split out of its batch): hidden in tiles

/** Global element index of every vertex (or instance) from its tile-local feature id. */
export function elementIndices(featureIds, featureToElement, out = null) {
  const n = featureIds.length;
  const res = out ?? new Float32Array(n);
  const m = featureToElement.length;
  for (let i = 0; i < n; i += 1) {
    const f = Math.round(featureIds[i]);
    res[i] = f >= 0 && f < m ? featureToElement[f] : -1;
  }
  return res;
}

/** Element index at a raycast hit: the hit vertex's (or instance's) value, or -1. */
export function elementAtHit(vertexElements, instanceElements, face, instanceId) {
  if (instanceElements && Number.isInteger(instanceId)) {
    const v = instanceElements[instanceId];
    return v === undefined ? -1 : v;
  }
  if (vertexElements && face) {
    const v = vertexElements[face.a];
    return v === undefined ? -1 : v;
  }
  return -1;
}

/** Texture layout for `count` elements: width a power of two up to 2048. */
export function stateTextureSize(count) {
  const width = Math.min(2048, Math.max(1, 2 ** Math.ceil(Math.log2(Math.max(1, count)))));
  return { width, height: Math.max(1, Math.ceil(count / width)) };
}

function parseColor(c) {
  const m = typeof c === 'string' && /^#([0-9a-fA-F]{6})$/.exec(c);
  if (!m) return null;
  const v = parseInt(m[1], 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/**
 * Fill `data` (RGBA8, 4 bytes per element) from the room's node state.
 * @param {Uint8Array} data
 * @param {object} nodes       protocol node state: node id -> {visible, color, transform}
 * @param {(key: string) => number} indexOf  node id -> element row (-1 unknown)
 * @param {Set<number>|null} isolated        element rows to keep (null: no isolation)
 * @param {Set<number>} moved                element rows drawn by their own mesh
 * @returns {{hidden: number, tinted: number, moved: number}} counts, for the test hooks
 */
export function packElementState(data, count, nodes, indexOf, isolated = null, moved = new Set()) {
  const isolating = Boolean(isolated);
  for (let i = 0; i < count; i += 1) {
    const o = i * 4;
    data[o] = 0;
    data[o + 1] = 0;
    data[o + 2] = 0;
    data[o + 3] = isolating && !isolated.has(i) ? FLAG_HIDDEN : 0;
  }
  for (const [key, st] of Object.entries(nodes ?? {})) {
    const i = indexOf(key);
    if (i < 0 || i >= count || !st) continue;
    const o = i * 4;
    if (st.visible === false) data[o + 3] |= FLAG_HIDDEN;
    const rgb = parseColor(st.color);
    if (rgb) {
      data[o] = rgb[0];
      data[o + 1] = rgb[1];
      data[o + 2] = rgb[2];
      data[o + 3] |= FLAG_TINT;
    }
  }
  for (const i of moved) if (i >= 0 && i < count) data[i * 4 + 3] |= FLAG_MOVED;
  let hidden = 0;
  let tinted = 0;
  for (let i = 0; i < count; i += 1) {
    const f = data[i * 4 + 3];
    if (f & FLAG_HIDDEN) hidden += 1;
    if (f & FLAG_TINT) tinted += 1;
  }
  return { hidden, tinted, moved: moved.size };
}

/** Whether an element is drawn by the tiles (not hidden, not isolated away, not split out). */
export function drawnInTiles(data, i) {
  if (i < 0 || i * 4 + 3 >= data.length) return false;
  return (data[i * 4 + 3] & (FLAG_HIDDEN | FLAG_MOVED)) === 0;
}

/** Whether an element is visible at all (in the tiles or as its own split-out mesh). */
export function elementVisible(data, i) {
  if (i < 0 || i * 4 + 3 >= data.length) return false;
  return (data[i * 4 + 3] & FLAG_HIDDEN) === 0;
}

/** Triangles of an indexed (or not) geometry whose first vertex belongs to `element`. */
export function trianglesOf(vertexElements, index, element) {
  const out = [];
  const n = index ? index.length : vertexElements.length;
  for (let t = 0; t + 2 < n; t += 3) {
    const a = index ? index[t] : t;
    if (vertexElements[a] === element) out.push(t);
  }
  return out;
}
