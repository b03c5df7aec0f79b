// Triangle budget for streamed tilesets (docs/tiles.md T3, tile `extras.triangles`), as plain
// functions over 3d-tiles-renderer's per-frame traversal state (no three.js here: unit-tested
// with node --test).
//
// The renderer refines a REPLACE tile while its screen-space error is above `errorTarget`,
// whatever that costs. The client keeps the device's error target as a floor and raises it,
// one tile at a time, while the tiles selected in view hold more triangles than the device's
// budget; it lowers it again, one tile at a time, while refining the coarsest tile on screen
// would still fit. Both steps predict their outcome from the tileset's per-tile triangle
// counts (the writer's `extras.triangles`), so the target settles instead of oscillating.
// The client starts at an infinite target (the root alone) and refines down from there.

/** Triangles a tile draws (tileset extras), or null when the tileset does not say. */
export function tileTriangles(tile) {
  const n = tile?.extras?.triangles;
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function used(tile, frame) {
  const t = tile.traversal;
  return Boolean(t) && t.lastFrameVisited === frame && t.used && t.inFrustum;
}

/**
 * The tiles the last traversal selected in view: `frontier` (drawn once loaded: used, in the
 * frustum, no used child in the frustum) and `refined` (used, in view, replaced by children).
 * `triangles` is the frontier's sum, or null when a tile has no count.
 */
export function selection(root, frame) {
  const frontier = [];
  const refined = [];
  let triangles = 0;
  let known = true;
  const stack = root ? [root] : [];
  while (stack.length) {
    const tile = stack.pop();
    if (!used(tile, frame)) continue;
    const kids = (tile.children ?? []).filter((c) => used(c, frame));
    if (kids.length) {
      refined.push(tile);
      stack.push(...kids);
    } else {
      frontier.push(tile);
      const n = tileTriangles(tile);
      if (n === null) known = false;
      else triangles += n;
    }
  }
  return { frontier, refined, triangles: known ? triangles : null };
}

/**
 * The error target for the next traversal: `base` (the device's) raised just enough that the
 * selection fits `budget` triangles. Returns `current` when no change is needed.
 * @param {object} root         the tileset's root tile (3d-tiles-renderer's tile objects)
 * @param {number} frame        the renderer's frameCount of the traversal to judge
 * @param {number} current      the error target that traversal ran with
 * @param {number} base         the device class's error target (never go below it)
 * @param {number} budget       triangles (Infinity: no budget)
 * @param {(tile: object) => boolean} inView  whether a (not yet traversed) child is in view:
 *                              only those are drawn when their parent refines
 */
export function nextErrorTarget(root, frame, current, base, budget, inView = () => true) {
  if (!Number.isFinite(budget)) return base;
  const sel = selection(root, frame);
  if (!sel.frontier.length) return current; // nothing traversed yet (tileset still loading)
  if (sel.triangles === null) return base; // no counts: the renderer's own behaviour
  if (sel.triangles > budget && sel.refined.length) {
    // Coarsen the refined tile that needs its children least (smallest screen-space error).
    let best = null;
    for (const t of sel.refined) if (Number.isFinite(t.traversal.error) && (!best || t.traversal.error < best.traversal.error)) best = t;
    if (best) return Math.max(base, current, best.traversal.error * 1.01);
    return current;
  }
  if (current <= base) return base;
  // Refine the frontier tile that needs it most, when its children would still fit.
  let best = null;
  for (const t of sel.frontier) {
    if (!(t.children?.length) || !Number.isFinite(t.traversal.error) || t.traversal.error <= base) continue;
    if (!best || t.traversal.error > best.traversal.error) best = t;
  }
  if (!best) return base;
  let kids = 0;
  for (const c of best.children) {
    if (!inView(c)) continue;
    const n = tileTriangles(c);
    if (n === null) return current;
    kids += n;
  }
  const predicted = sel.triangles - (tileTriangles(best) ?? 0) + kids;
  if (predicted > budget) return current;
  return Math.max(base, best.traversal.error * 0.99);
}

/** Whether a WebGL context renders in software (SwiftShader, llvmpipe, ...): no GPU. */
export function isSoftwareRenderer(name) {
  return /swiftshader|llvmpipe|softpipe|software|basic render driver/i.test(String(name ?? ''));
}
