// VR issue draft: a trigger pull marks a spot and asks; a second pull on the marked spot creates
// the issue, a pull elsewhere moves the draft, and the thumbstick-less "cancel" is a squeeze or
// leaving VR. Where the browser offers speech recognition, what is said while the draft is
// open becomes the title.
import * as THREE from 'three';
import { textSprite, disposeSprite } from '../viewer/labels.js';

/** A second pull within CONFIRM_RADIUS x scale (metres) of the draft confirms it. */
export const CONFIRM_RADIUS = 0.35;

export class XRIssueDraft {
  /** @param {THREE.Object3D} scene world-space parent of the marker */
  constructor(scene, { onConfirm }) {
    this.scene = scene;
    this.onConfirm = onConfirm;
    this.draft = null;
    this.scale = 1;
  }

  /** A trigger pull at `hit` (world space). Returns 'drafted' | 'confirmed'. */
  trigger(hit, label = '') {
    if (this.draft && this.draft.point.distanceTo(hit.point) <= CONFIRM_RADIUS * this.scale) {
      const d = this.draft;
      this.cancel();
      this.onConfirm(d.hit, { title: d.title || (d.label ? `Issue at ${d.label}` : 'Issue from VR'), text: d.text });
      return 'confirmed';
    }
    this.cancel();
    const marker = new THREE.Group();
    marker.name = 'xr-issue-draft';
    const dot = new THREE.Mesh(new THREE.SphereGeometry(0.04 * this.scale, 16, 12),
      new THREE.MeshBasicMaterial({ color: 0xf0b429, depthTest: false }));
    dot.renderOrder = 10;
    const sprite = textSprite('Pull again here to create the issue · squeeze to cancel', { color: '#f0b429' });
    sprite.position.set(0, 0.18 * this.scale, 0);
    marker.add(dot, sprite);
    marker.position.copy(hit.point);
    this.scene.add(marker);
    this.draft = { hit, point: hit.point.clone(), marker, dot, sprite, label, title: '', text: '' };
    this._listen();
    return 'drafted';
  }

  cancel() {
    const d = this.draft;
    if (!d) return;
    this.draft = null;
    d.marker.removeFromParent();
    d.dot.geometry.dispose();
    d.dot.material.dispose();
    disposeSprite(d.sprite);
    try { this.recognition?.abort(); } catch { /* not started */ }
    this.recognition = null;
  }

  /** Dictation, where the browser has it (Chrome: webkitSpeechRecognition). */
  _listen() {
    const SR = globalThis.SpeechRecognition ?? globalThis.webkitSpeechRecognition;
    if (!SR) return;
    try {
      const r = new SR();
      r.lang = navigator.language || 'en-US';
      r.interimResults = false;
      r.onresult = (e) => {
        const said = Array.from(e.results).map((x) => x[0]?.transcript ?? '').join(' ').trim();
        if (this.draft && said) {
          this.draft.title = said.slice(0, 200);
          this.draft.text = said.length > 200 ? said : '';
        }
      };
      r.start();
      this.recognition = r;
    } catch {
      this.recognition = null;
    }
  }

  describe() {
    return this.draft ? { point: this.draft.point.toArray(), title: this.draft.title } : null;
  }
}
