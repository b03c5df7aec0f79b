// Level-of-detail selection from a converted model's manifest (docs/manifest.md).
// Levels are listed finest first; `devices` names the level that fits each device class.

export const DEVICE_CLASSES = Object.freeze(['desktop', 'quest3', 'quest2', 'phone']);

/** Guess the device class from the user agent and whether an XR headset is present. */
export function detectDeviceClass({ userAgent = '', override = null, xrHeadset = false } = {}) {
  if (override && DEVICE_CLASSES.includes(override)) return override;
  const ua = userAgent.toLowerCase();
  if (ua.includes('quest 2') || ua.includes('quest2')) return 'quest2';
  if (ua.includes('quest') || ua.includes('oculusbrowser') || xrHeadset) return 'quest3';
  if (/android|iphone|ipad|mobile/.test(ua)) return 'phone';
  return 'desktop';
}

function validLevels(manifest) {
  if (!manifest || manifest.format !== 'vrcollab-model' || !Array.isArray(manifest.levels)) {
    throw new Error('not a vrcollab model manifest');
  }
  const levels = manifest.levels.filter((l) => l && typeof l.file === 'string' && typeof l.name === 'string');
  if (!levels.length) throw new Error('manifest lists no levels');
  return levels;
}

/** The level entry the manifest recommends for `deviceClass`. */
export function targetLevel(manifest, deviceClass) {
  const levels = validLevels(manifest);
  const byName = new Map(levels.map((l) => [l.name, l]));
  const dev = manifest.devices?.[deviceClass];
  let target = dev && byName.get(dev.level);
  if (target && dev.status === 'fail' && Number.isFinite(dev.budget_triangles)) {
    // The recommended level still breaks the budget: take the finest one that fits, if any.
    const fits = levels.find((l) => Number.isFinite(l.triangles) && l.triangles <= dev.budget_triangles);
    if (fits) target = fits;
  }
  if (!target) target = byName.get(deviceClass);
  if (!target) target = deviceClass === 'desktop' ? levels[0] : levels[levels.length - 1];
  return target;
}

/**
 * Levels to load, in order: the coarsest first (fast first frame), then the target.
 * Levels sharing a file are loaded once.
 */
export function loadPlan(manifest, deviceClass) {
  const levels = validLevels(manifest);
  const target = targetLevel(manifest, deviceClass);
  const coarsest = levels[levels.length - 1];
  if (target.file === coarsest.file) return [target];
  return [coarsest, target];
}

/** Resolve a level's file against the manifest URL (levels sit next to manifest.json). */
export function levelUrl(manifestUrl, level, base = 'http://localhost/') {
  if (typeof level.url === 'string') return new URL(level.url, new URL(manifestUrl, base)).href;
  return new URL(level.file, new URL(manifestUrl, base)).href;
}

/** Triangles and draw calls a plan ends at, for the HUD. */
export function planSummary(plan) {
  const last = plan[plan.length - 1];
  return { level: last.name, triangles: last.triangles ?? null, draw_calls: last.draw_calls ?? null };
}
