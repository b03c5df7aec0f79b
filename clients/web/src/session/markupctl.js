// The markup tool on the desktop: drawing polylines (tools/markup.js), the list of the room's
// markup with Erase (the author's own, or any for editors), and everyone's strokes in the scene.
import { MarkupTool, MarkupsView } from '../tools/markup.js';
import { el, mount, toast } from '../ui/dom.js';

export class MarkupControl {
  /** @param {object} deps {conn, viewer, model, tools, bus, color() -> '#rrggbb',
   *   topic() -> selected annotation id|null, nameOf(userId)} */
  constructor({ conn, viewer, model, tools, bus, color, topic, nameOf }) {
    Object.assign(this, { conn, tools, topic, nameOf });
    this.tool = new MarkupTool({ viewer, model, color, send: (k, f) => tools.send(k, f) });
    this.view = new MarkupsView(model.root);
    bus.on('mode', (id) => {
      this.tool.reset();
      this.show(id === 'markup');
    });
    bus.on('state', (view) => {
      this.view.sync(view.markups);
      if (document.getElementById('markup-ctl')) this._list();
    });
    window.addEventListener('keydown', (e) => {
      if (this.tools.mode !== 'markup' || e.target.closest?.('input, textarea, select')) return;
      if (e.key === 'Enter') this.finish();
      if (e.key === 'Escape') this.tool.reset();
    });
  }

  /** A click on the model while drawing. */
  click(hit) {
    const n = this.tool.click(hit);
    if (!hit) toast('Click on the model.');
    else if (n === 1) toast('Click more points; double-click or Enter finishes, Esc cancels.');
  }

  /** Finish the stroke (double-click, Enter). */
  finish() {
    // A double-click also clicked twice on its last point: drop repeated points.
    const pts = this.tool.points;
    this.tool.points = pts.filter((p, i) => i === 0 || p.distanceTo(pts[i - 1]) > 1e-4);
    if (this.tool.points.length < 2) {
      this.tool.reset();
      toast('A markup needs two points at least.');
      return null;
    }
    const rec = this.tool.finish(this.topic());
    if (rec) toast(rec.annotation_id ? 'Markup added to the selected issue.' : 'Markup added.');
    return rec;
  }

  /** May we erase this markup (ours, or any as editor)? */
  canErase(m) {
    return this.tools.can('markup.delete') && (m.author === this.tools.me || this.tools.can('node.set'));
  }

  erase(id) {
    this.tools.send('markup.delete', { id });
  }

  show(on) {
    document.getElementById('markup-ctl')?.remove();
    if (!on) return;
    document.getElementById('stage').append(el('div', { class: 'markup-ctl', id: 'markup-ctl' },
      el('div', { class: 'hint' }, 'Markup: click points on the model; double-click or Enter finishes. With an issue selected, the markup belongs to it (BCF lines).'),
      el('div', { id: 'markup-list', class: 'markup-list' })));
    this._list();
  }

  _list() {
    const box = document.getElementById('markup-list');
    if (!box) return;
    const all = Object.values(this.conn.mirror.view.markups ?? {});
    mount(box, all.slice(-50).map((m) => el('div', { class: 'row', dataset: { markup: m.id } },
      el('span', { class: 'sw', style: { background: /^#[0-9a-f]{6}$/i.test(m.color ?? '') ? m.color : '#ff3b30' } }),
      el('span', {}, `${this.nameOf(m.author)} · ${m.points.length} points`),
      this.canErase(m) ? el('button', { class: 'btn small erase', onclick: () => this.erase(m.id) }, 'Erase') : null)));
  }
}
