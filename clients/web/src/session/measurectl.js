// The measure tool's picker (what to measure), shown while measuring.
import { MEASURE_KINDS } from '../tools/measure.js';
import { el } from '../ui/dom.js';

export class MeasureControl {
  /** @param {object} deps {measure (MeasureTool), bus} */
  constructor({ measure, bus }) {
    this.measure = measure;
    bus.on('mode', (id) => this.show(id === 'measure'));
  }

  show(on) {
    document.getElementById('measure-ctl')?.remove();
    if (!on) return;
    const sel = el('select', { id: 'measure-kind', 'aria-label': 'What to measure' },
      Object.entries(MEASURE_KINDS).map(([k, label]) => el('option', { value: k }, label)));
    sel.value = this.measure.kind;
    sel.addEventListener('change', () => {
      this.measure.kind = sel.value;
      this.measure.reset();
    });
    document.getElementById('stage').append(el('div', { class: 'measure-ctl', id: 'measure-ctl' }, el('span', {}, 'Measure'), sel));
  }
}
