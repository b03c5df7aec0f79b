// Colour by property (our own view): the property picker, the colours, the legend. Reads the
// displayed model's catalog, so it works on tiled models (element table) and v1 part lists;
// class and storey are known at once, property-set keys appear as their chunks load.
import { propertyKeys, colorize, CLASS_KEY, STOREY_KEY, needsProperties } from '../tools/colorby.js';
import { ModelCatalog } from '../tools/catalog.js';
import { el, mount } from '../ui/dom.js';
import * as hud from '../ui/hud.js';

const LABELS = { [CLASS_KEY]: 'IFC class', [STOREY_KEY]: 'Storey' };

export class ColorByControl {
  /** @param {object} deps {model, own, tools, apply() (redraw our view)} */
  constructor({ model, own, tools, apply }) {
    Object.assign(this, { model, own, tools, apply });
    this.legend = null; // {key, legend: [{value, color, count}]}
    this.pending = null; // the key being coloured while its properties load
    tools.register('colorby', () => this.togglePanel());
  }

  /** Colour every element by one property's value (own view), with a legend; null clears. */
  async colorBy(key) {
    this.pending = key;
    const cat = ModelCatalog.of(this.model);
    if (key && cat && needsProperties(key) && !cat.complete) {
      this._status(`Loading property values…`);
      await cat.loadProperties(() => this._status(`Loading property values… ${Math.floor((100 * cat.loaded) / Math.max(1, cat.count))} %`));
      if (this.pending !== key) return this.legend; // another choice came meanwhile
    }
    this.own.colors.clear();
    this.legend = null;
    if (key && cat) {
      const { colors, legend } = colorize(cat.entries(), key);
      this.own.colors = colors;
      this.legend = { key, legend };
    }
    this.apply();
    this._status('');
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
    const sel = el('select', { id: 'colorby-key', 'aria-label': 'Colour by property' });
    const fill = () => {
      const cat = ModelCatalog.of(this.model);
      const keys = cat ? propertyKeys(cat.entries()) : [CLASS_KEY];
      const value = sel.value || (this.legend?.key ?? '');
      mount(sel, el('option', { value: '' }, 'No colours'), keys.map((k) => el('option', { value: k }, LABELS[k] ?? k)));
      sel.value = keys.includes(value) ? value : '';
    };
    fill();
    sel.addEventListener('change', () => this.colorBy(sel.value || null));
    const box = el('div', { class: 'colorby-ctl', id: 'colorby-ctl' }, el('span', {}, 'Colour by'), sel,
      el('div', { id: 'colorby-status', class: 'hint' }), el('div', { id: 'colorby-legend', class: 'legend' }));
    document.getElementById('stage').append(box);
    this._renderLegend();
    // Property-set keys join the list as the element properties load (tiled models: by chunk).
    const cat = ModelCatalog.of(this.model);
    if (cat && !cat.complete) {
      let queued = null;
      cat.loadProperties(() => {
        queued ??= setTimeout(() => {
          queued = null;
          if (box.isConnected && document.activeElement !== sel) fill();
        }, 250);
      }).then(() => { if (box.isConnected) fill(); }).catch(() => {});
    }
  }

  _status(text) {
    const s = document.getElementById('colorby-status');
    if (s) s.textContent = text;
  }

  _renderLegend() {
    const box = document.getElementById('colorby-legend');
    if (!box) return;
    mount(box, (this.legend?.legend ?? []).slice(0, 16).map((r) => el('div', { class: 'row', dataset: { value: r.value } },
      el('span', { class: 'sw', style: { background: hud.safeColor(r.color) } }), el('span', {}, `${r.value} (${r.count})`))));
  }
}
