// Our own section plane: the toolbar toggle and the axis / offset control under the view.
import * as THREE from 'three';
import { el } from '../ui/dom.js';
import { modelBounds } from './frames.js';

/** While the offset slider is dragged, the full view state is redrawn at most this often. */
export const SECTION_REDRAW_MS = 150;

const AXES = { x: [1, 0, 0], y: [0, 1, 0], z: [0, 0, 1] };

export class SectionControl {
  /** @param {object} deps {viewer, model, own, section (SectionView), tools, apply() (redraw our view)} */
  constructor(deps) {
    Object.assign(this, deps);
    this.tools.register('section', () => this.toggle());
  }

  /** Our own section plane on or off (the room's plane, if any, is replaced while ours is on). */
  toggle() {
    const current = this.section.current;
    if (current) {
      this.own.setSection({ ...current, enabled: false });
      this.show(null);
      this.apply();
      return;
    }
    const b = modelBounds(this.model);
    const up = this.model.upAxis === 'Z' ? 2 : 1;
    const mid = b ? b.getCenter(new THREE.Vector3()).getComponent(up) : 0;
    const s = { normal: up === 2 ? [0, 0, 1] : [0, 1, 0], offset: mid, enabled: true };
    this.own.setSection(s);
    this.apply();
    this.show(s);
  }

  /** Show the control for section `s` (null removes it). */
  show(s) {
    document.getElementById('section-ctl')?.remove();
    const b = modelBounds(this.model);
    if (!s || !b) return;
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
      this.own.setSection({ normal: AXES[axis], offset: lo + (hi - lo) * k, enabled: true });
      const now = performance.now();
      if (final || now - last > SECTION_REDRAW_MS) {
        last = now;
        this.apply();
      } else {
        this.section.apply(this.own.sections({}), this.own.box);
        this.viewer.invalidate();
      }
    };
    slider.addEventListener('input', () => push(false));
    slider.addEventListener('change', () => push(true));
    axisSel.addEventListener('change', () => { axis = axisSel.value; push(true); });
    const box = el('div', { class: 'section-ctl', id: 'section-ctl' }, el('span', {}, 'Section (yours)'), axisSel, slider,
      el('button', { class: 'btn small', onclick: () => this.toggle() }, 'Off'));
    document.getElementById('stage').append(box);
  }
}
