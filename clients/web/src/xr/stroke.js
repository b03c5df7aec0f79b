// Freehand strokes in VR: points sampled along the controller ray's hits while the trigger is
// held, thinned by a minimum spacing and simplified (Ramer-Douglas-Peucker) before they become a
// markup record. Plain arrays ([x, y, z]) so node tests can run it without three.js.

/** Keep a sample only this far (metres, world) from the last one kept. */
export const MIN_SPACING = 0.01;
/** Simplification tolerance as a fraction of the controller's distance to the stroke. */
export const TOLERANCE_PER_M = 0.002;

const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const len = (a) => Math.sqrt(dot(a, a));

/** Distance of p from the segment a-b. */
export function segmentDistance(p, a, b) {
  const ab = sub(b, a);
  const l2 = dot(ab, ab);
  const t = l2 > 0 ? Math.max(0, Math.min(1, dot(sub(p, a), ab) / l2)) : 0;
  return len(sub(p, [a[0] + ab[0] * t, a[1] + ab[1] * t, a[2] + ab[2] * t]));
}

/** Ramer-Douglas-Peucker: the fewest points that stay within `tol` of the polyline. */
export function simplify(points, tol) {
  if (points.length <= 2) return points.slice();
  const keep = new Uint8Array(points.length);
  keep[0] = 1;
  keep[points.length - 1] = 1;
  const stack = [[0, points.length - 1]];
  while (stack.length) {
    const [i, j] = stack.pop();
    let far = -1;
    let dmax = tol;
    for (let k = i + 1; k < j; k += 1) {
      const d = segmentDistance(points[k], points[i], points[j]);
      if (d > dmax) {
        dmax = d;
        far = k;
      }
    }
    if (far >= 0) {
      keep[far] = 1;
      stack.push([i, far], [far, j]);
    }
  }
  return points.filter((_, k) => keep[k]);
}

/** One stroke being drawn: add() samples, finish() returns the simplified points. */
export class Stroke {
  /** @param {number} maxPoints the protocol's bound on a markup's points */
  constructor(maxPoints, spacing = MIN_SPACING) {
    this.maxPoints = maxPoints;
    this.spacing = spacing;
    this.points = [];
    this.reach = 0; // summed controller distances, for the tolerance
  }

  /** A sample at `p` seen from `distance` metres; returns whether it was kept. */
  add(p, distance = 1) {
    const last = this.points[this.points.length - 1];
    if (last && len(sub(p, last)) < this.spacing) return false;
    this.points.push([p[0], p[1], p[2]]);
    this.reach += distance;
    return true;
  }

  /** The simplified stroke (at most maxPoints), or null when it is shorter than two points. */
  finish() {
    if (this.points.length < 2) return null;
    const tol = TOLERANCE_PER_M * (this.reach / this.points.length);
    let out = simplify(this.points, tol);
    // Still too many: loosen the tolerance until the stroke fits the protocol bound.
    for (let t = tol * 2; out.length > this.maxPoints; t *= 2) out = simplify(this.points, t);
    return out;
  }
}
