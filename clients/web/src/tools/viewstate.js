// A person's own view state: parts they hid or isolated and their own section plane. It is
// drawn over the room's durable state (node.set / section.set) and never sent unless they
// choose "Show my view to everyone" (editors: durable ops; editors and the presenter: the
// ephemeral `view` command, protocol R23).

/** The most node ids a shared view carries (protocol R23, MAX_VIEW_NODES). */
export const MAX_VIEW_NODES = 5000;

const vec3 = (v) => Array.isArray(v) && v.length === 3 && v.every(Number.isFinite);

/** `box` when it is a section box {min: [3], max: [3]} with min <= max on every axis, else null. */
export function validBox(box) {
  if (!box || !vec3(box.min) || !vec3(box.max)) return null;
  return box.min.every((v, i) => v <= box.max[i]) ? { min: [...box.min], max: [...box.max] } : null;
}

export class OwnView {
  constructor() {
    this.hidden = new Set();
    this.isolated = null; // Set of node ids, or null
    // null: the room's section applies; otherwise {normal, offset, enabled} of our own plane.
    this.section = null;
    this.colors = new Map(); // node id -> '#rrggbb' (colour by property)
    this.box = null; // section box {min, max} (model space), ours only
  }

  get empty() {
    return !this.hidden.size && !this.isolated && !this.section && !this.colors.size && !this.box;
  }

  hide(nodeId) {
    this.hidden.add(nodeId);
  }

  isolate(ids) {
    this.isolated = ids && ids.length ? new Set(ids) : null;
  }

  setSection(section) {
    this.section = section ? { normal: [...section.normal], offset: section.offset, enabled: section.enabled !== false } : null;
  }

  /** A section box {min: [3], max: [3]} in model space (null removes it). */
  setBox(box) {
    this.box = box ? { min: [...box.min], max: [...box.max] } : null;
  }

  /** Forget our own hide / isolate / section / box (the room's state shows again). */
  clear() {
    this.hidden.clear();
    this.isolated = null;
    this.section = null;
    this.colors.clear();
    this.box = null;
  }

  /** The room's node states with our own hidden parts hidden on top. */
  nodes(roomNodes) {
    if (!this.hidden.size && !this.colors.size) return roomNodes ?? {};
    const out = { ...(roomNodes ?? {}) };
    for (const [id, color] of this.colors) out[id] = { ...(out[id] ?? {}), color };
    for (const id of this.hidden) out[id] = { ...(out[id] ?? {}), visible: false };
    return out;
  }

  /** The sections to draw: our own plane (when we set one) replaces the room's. */
  sections(roomSections) {
    if (!this.section) return roomSections ?? {};
    return { own: { id: 'own', ...this.section } };
  }

  /** The wire form of the `view` command (R23); `box` only when we have a section box. */
  toWire(camera = null) {
    return {
      hidden: [...this.hidden].slice(0, MAX_VIEW_NODES),
      isolated: this.isolated ? [...this.isolated].slice(0, MAX_VIEW_NODES) : null,
      section: this.section ? { ...this.section } : null,
      camera,
      colors: Object.fromEntries([...this.colors].slice(0, MAX_VIEW_NODES)),
      ...(this.box ? { box: { min: [...this.box.min], max: [...this.box.max] } } : {}),
    };
  }

  /** Take over a view someone showed us (R23): it replaces our own. */
  adopt(view) {
    this.hidden = new Set(Array.isArray(view?.hidden) ? view.hidden.filter((x) => typeof x === 'string') : []);
    this.isolate(Array.isArray(view?.isolated) ? view.isolated.filter((x) => typeof x === 'string') : null);
    const s = view?.section;
    this.setSection(s && Array.isArray(s.normal) && s.normal.length === 3 && Number.isFinite(s.offset) ? s : null);
    const colors = view?.colors && typeof view.colors === 'object' ? Object.entries(view.colors) : [];
    this.colors = new Map(colors.filter(([k, c]) => typeof k === 'string' && /^#[0-9a-f]{6}$/i.test(String(c))));
    this.setBox(validBox(view?.box));
  }

  describe() {
    return { hidden: [...this.hidden], isolated: this.isolated ? [...this.isolated] : null, section: this.section, colors: this.colors.size, ...(this.box ? { box: this.box } : {}) };
  }
}
