// The wrist menu in VR: one canvas-textured panel on the left controller (the three.js examples'
// approach: no UI library to vendor, nothing from a CDN, no inline script), raycast by the other
// controller's laser. It picks the VR tool, shows the selected issue's thread, and composes a
// short comment from a predefined list or dictation, then posts it. The "kind" item cycles the
// measure kind (distance, perpendicular, angle, area).
import * as THREE from 'three';

/** VR tools, in menu order: [id, label]. */
export const XR_TOOLS = [['pin', 'Pin'], ['measure', 'Measure'], ['markup', 'Markup'], ['erase', 'Erase'], ['section', 'Section'], ['teleport', 'Teleport']];
/** The measure kinds the "kind" item cycles through (tools/measure.js MEASURE_KINDS): [id, label]. */
export const XR_MEASURE_KINDS = [['distance', 'Distance'], ['perpendicular', 'Perpend.'], ['angle', 'Angle'], ['area', 'Area']];
/** The comments offered without a keyboard (WebXR has no text input; see docs/headset.md). */
export const QUICK_COMMENTS = ['Looks good', 'Please fix', 'Check dimensions', 'Clash here', 'Missing element'];

/** Canvas pixels and panel metres. */
const W = 512;
const H = 640;
const SIZE = [0.2, 0.25];

function layout() {
  const items = [];
  const add = (id, kind, label, x, y, w, h, value = id) => items.push({ id, kind, label, value, rect: [x, y, w, h] });
  XR_TOOLS.forEach(([id, label], i) => add(`tool:${id}`, 'tool', label, 12 + (i % 4) * 124, 52 + Math.floor(i / 4) * 58, 116, 50, id));
  add('section-off', 'action', 'Section off', 260, 110, 116, 50);
  add('kind', 'action', 'Kind', 384, 110, 116, 50);
  add('prev', 'action', '◀', 12, 178, 56, 40);
  add('next', 'action', '▶', 444, 178, 56, 40);
  QUICK_COMMENTS.forEach((text, i) => add(`quick:${i}`, 'quick', text, 12 + (i % 2) * 250, 430 + Math.floor(i / 2) * 50, 238, 42, text));
  add('dictate', 'action', 'Dictate', 262, 530, 238, 42);
  add('post', 'action', 'Post comment', 12, 584, 320, 46);
  add('clear', 'action', 'Clear', 344, 584, 156, 46);
  add('close', 'action', '✕', 456, 6, 48, 38);
  return items;
}

/**
 * The panel's material: a ShaderMaterial without the clipping chunks, so a section plane (the
 * renderer's global clipping planes) never cuts the menu away while it is between you and the
 * cut; you need it to turn the section off.
 */
function unclippedMaterial(map) {
  return new THREE.ShaderMaterial({
    uniforms: { map: { value: map } },
    vertexShader: 'varying vec2 vUv; void main() { vUv = uv; gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0); }',
    fragmentShader: 'uniform sampler2D map; varying vec2 vUv; void main() { gl_FragColor = texture2D(map, vUv);\n#include <colorspace_fragment>\n}',
    side: THREE.DoubleSide, transparent: true, depthTest: false,
  });
}

function wrap(ctx, text, width) {
  const lines = [];
  let line = '';
  for (const word of String(text).split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (ctx.measureText(next).width > width && line) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

export class WristMenu {
  /** @param {object} hooks {onTool(id), onAction(id), onQuick(text)} */
  constructor(hooks) {
    this.hooks = hooks;
    this.items = layout();
    this.canvas = document.createElement('canvas');
    this.canvas.width = W;
    this.canvas.height = H;
    this.texture = new THREE.CanvasTexture(this.canvas);
    this.texture.colorSpace = THREE.SRGBColorSpace;
    this.mesh = new THREE.Mesh(new THREE.PlaneGeometry(SIZE[0], SIZE[1]), unclippedMaterial(this.texture));
    this.mesh.name = 'xr-wrist-menu';
    this.mesh.renderOrder = 30;
    this.mesh.visible = false;
    // Above the back of the left wrist, tilted toward the eyes.
    this.mesh.position.set(0.02, 0.1, -0.02);
    this.mesh.rotation.x = -0.5;
    this.raycaster = new THREE.Raycaster();
    this.state = { tool: 'pin', kind: 'distance', hint: '', thread: null, draft: '', dictation: false, listening: false, hover: null };
    this.drawn = '';
    this.draw();
  }

  get open() {
    return this.mesh.visible;
  }

  /** Put the panel on this controller's grip (the left hand). */
  attach(grip) {
    if (this.mesh.parent !== grip) grip.add(this.mesh);
  }

  toggle(on = !this.mesh.visible) {
    this.mesh.visible = Boolean(on) && Boolean(this.mesh.parent);
    if (!this.mesh.visible) this.state.hover = null;
  }

  /** Where a ray meets the open panel: {item|null, point, distance}, or null. */
  hit(origin, dir) {
    if (!this.open) return null;
    this.raycaster.set(origin, dir);
    const h = this.raycaster.intersectObject(this.mesh, false)[0];
    if (!h?.uv) return null;
    const x = h.uv.x * W;
    const y = (1 - h.uv.y) * H;
    const item = this.items.find(({ rect: [rx, ry, rw, rh] }) => x >= rx && x <= rx + rw && y >= ry && y <= ry + rh) ?? null;
    return { item, point: h.point, distance: h.distance };
  }

  /** A trigger pull on an item. */
  press(item) {
    if (!item) return;
    if (item.kind === 'tool') this.hooks.onTool(item.value);
    else if (item.kind === 'quick') this.hooks.onQuick(item.value);
    else if (item.id === 'close') this.toggle(false);
    else this.hooks.onAction(item.id);
  }

  /** Redraw with a new state (only when something shown changed). */
  update(patch) {
    Object.assign(this.state, patch);
    this.draw();
  }

  draw() {
    const key = JSON.stringify(this.state);
    if (key === this.drawn) return;
    this.drawn = key;
    const ctx = this.canvas.getContext('2d');
    const s = this.state;
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = 'rgba(22, 27, 34, 0.94)';
    ctx.beginPath();
    ctx.roundRect(0, 0, W, H, 22);
    ctx.fill();
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#e6edf3';
    ctx.font = 'bold 26px sans-serif';
    ctx.fillText('vrcollab', 18, 26);
    ctx.font = '20px sans-serif';
    ctx.fillStyle = '#9fb3c8';
    ctx.fillText(s.hint || '', 144, 26, 300);
    for (const it of this.items) {
      if (it.id === 'dictate' && !s.dictation) continue;
      const [x, y, w, h] = it.rect;
      const active = (it.kind === 'tool' && it.value === s.tool) || (it.id === 'dictate' && s.listening);
      ctx.fillStyle = active ? '#2f81f7' : it.id === s.hover ? '#3a4a5e' : '#2a3441';
      ctx.beginPath();
      ctx.roundRect(x, y, w, h, 10);
      ctx.fill();
      ctx.fillStyle = '#e6edf3';
      ctx.font = `${it.kind === 'tool' ? 'bold ' : ''}22px sans-serif`;
      const label = it.id === 'dictate' && s.listening ? 'Listening…'
        : it.id === 'kind' ? `${XR_MEASURE_KINDS.find(([k]) => k === s.kind)?.[1] ?? s.kind} ▸` : it.label;
      ctx.fillText(label, x + (w - Math.min(ctx.measureText(label).width, w - 12)) / 2, y + h / 2, w - 12);
    }
    // The selected issue's thread.
    ctx.fillStyle = '#0d1117';
    ctx.fillRect(76, 172, 360, 52);
    ctx.fillRect(12, 228, 488, 148);
    ctx.fillStyle = '#f0b429';
    ctx.font = 'bold 21px sans-serif';
    ctx.fillText(s.thread ? s.thread.title : 'No issue selected', 86, 198, 340);
    ctx.font = '19px sans-serif';
    let y = 246;
    const lines = [];
    if (s.thread) {
      for (const c of s.thread.comments.slice(-4)) for (const l of wrap(ctx, `${c.name}: ${c.text}`, 470)) lines.push(l);
      if (!s.thread.comments.length) lines.push('No replies yet.');
    } else lines.push('◀ ▶ step through the issues.');
    ctx.fillStyle = '#c9d1d9';
    for (const l of lines.slice(-6)) {
      ctx.fillText(l, 22, y, 470);
      y += 23;
    }
    ctx.fillStyle = '#9fb3c8';
    ctx.fillText('Comment:', 14, 400);
    ctx.fillStyle = s.draft ? '#e6edf3' : '#6e7c8c';
    ctx.fillText(s.draft || 'pick one below', 110, 400, 390);
    this.texture.needsUpdate = true;
  }

  /** For tests: the open state, the tool, and each item's centre in world space. */
  describe() {
    this.mesh.updateWorldMatrix(true, false);
    const items = {};
    for (const it of this.items) {
      const [x, y, w, h] = it.rect;
      const local = new THREE.Vector3(((x + w / 2) / W - 0.5) * SIZE[0], (0.5 - (y + h / 2) / H) * SIZE[1], 0);
      items[it.id] = this.mesh.localToWorld(local).toArray();
    }
    return { open: this.open, tool: this.state.tool, kind: this.state.kind, draft: this.state.draft, thread: this.state.thread, hint: this.state.hint, items };
  }
}
