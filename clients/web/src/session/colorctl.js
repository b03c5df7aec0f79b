// Colour by property (our own view): the property picker, the colours, the legend.
import { propertyKeys, colorize, CLASS_KEY } from '../tools/colorby.js';
import { el, mount } from '../ui/dom.js';
import * as hud from '../ui/hud.js';

export class ColorByControl {
  /** @param {object} deps {model, own, tools, apply() (redraw our view)} */
  constructor({ model, own, tools, apply }) {
    Object.assign(this, { model, own, tools, apply });
    this.legend = null; // {key, legend: [{value, color, count}]}
    tools.register('colorby', () => this.togglePanel());
  }

  _infos() {
    return [...this.model.parts.keys()].map((n) => this.model.partInfo(n)).filter(Boolean);
  }

  /** Colour every part by one property's value (own view), with a legend; null key clears. */
  colorBy(key) {
    this.own.colors.clear();
    this.legend = null;
    if (key) {
      const { colors, legend } = colorize(this._infos(), key);
      this.own.colors = colors;
      this.legend = { key, legend };
    }
    this.apply();
    this._renderLegend();
    this.tools.toolbar.setActive('colorby', Boolean(key));
    return this.legend;
  }

  togglePanel() {
    const old = document.getElementById('colorby-ctl');
    if (old) {
      old.remove();
      return;
    }
    const keys = propertyKeys(this._infos());
    const sel = el('select', { id: 'colorby-key', 'aria-label': 'Colour by property' },
      el('option', { value: '' }, 'No colours'),
      keys.map((k) => el('option', { value: k }, k === CLASS_KEY ? 'IFC class' : k)));
    sel.value = this.legend?.key ?? '';
    sel.addEventListener('change', () => this.colorBy(sel.value || null));
    const box = el('div', { class: 'colorby-ctl', id: 'colorby-ctl' }, el('span', {}, 'Colour by'), sel, el('div', { id: 'colorby-legend', class: 'legend' }));
    document.getElementById('stage').append(box);
    this._renderLegend();
  }

  _renderLegend() {
    const box = document.getElementById('colorby-legend');
    if (!box) return;
    mount(box, (this.legend?.legend ?? []).slice(0, 16).map((r) => el('div', { class: 'row', dataset: { value: r.value } },
      el('span', { class: 'sw', style: { background: hud.safeColor(r.color) } }), el('span', {}, `${r.value} (${r.count})`))));
  }
}
