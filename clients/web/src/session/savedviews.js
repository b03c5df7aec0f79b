// Saved views stored in the room (`view.save`): a named camera with section (plane, box), hidden and
// isolated parts and colour overrides; anyone opens one as their own view, the author (or an
// editor) replaces or deletes it; each has a `?view=` link.
import { newId } from '../state/codec.js';
import { viewLink } from '../tools/viewlink.js';
import { el, mount, toast } from '../ui/dom.js';

export class SavedViews {
  /** @param {object} deps {conn, tools, own, ownView (OwnViewControl), bus, nameOf(userId)} */
  constructor({ conn, tools, own, ownView, bus, nameOf }) {
    Object.assign(this, { conn, tools, own, ownView, nameOf });
    this.lastLink = null;
    tools.register('views', () => this.togglePanel());
    bus.on('state', () => { if (document.getElementById('views-ctl')) this._list(); });
  }

  list() {
    return Object.values(this.conn.mirror.view.views ?? {}).sort((a, b) => (a.created ?? 0) - (b.created ?? 0));
  }

  /** Save our current view (camera, section, hidden, isolated, colours) under `name`. */
  save(name) {
    const view = { id: newId('v'), name: String(name ?? '').trim().slice(0, 120) || 'View', ...this.own.toWire(this.ownView.cameraRecord()) };
    if (!this.tools.send('view.save', { view })) return null;
    toast(`Saved “${view.name}” for everyone in the room.`);
    return view;
  }

  /** Open a saved view as our own view; the camera flies there. */
  open(id) {
    const v = this.conn.mirror.view.views?.[id];
    if (!v) return;
    this.ownView.adoptView(v);
    toast(`Opened “${v.name}”. “Show all” returns to the whole model.`);
  }

  remove(id) {
    this.tools.send('view.delete', { id });
  }

  mayChange(v) {
    return this.tools.can('view.delete') && (v.author === this.tools.me || this.tools.can('node.set'));
  }

  togglePanel() {
    const old = document.getElementById('views-ctl');
    if (old) {
      old.remove();
      return;
    }
    const name = el('input', { id: 'view-name', placeholder: 'Name this view', 'aria-label': 'Name of the view', maxlength: 120 });
    const save = el('button', { class: 'btn small primary', id: 'view-save', onclick: () => { if (this.save(name.value)) name.value = ''; } }, 'Save this view');
    name.addEventListener('keydown', (e) => { if (e.key === 'Enter') save.click(); });
    document.getElementById('stage').append(el('div', { class: 'views-ctl', id: 'views-ctl' },
      el('div', { class: 'row' }, name, save), el('div', { id: 'views-list', class: 'views-list' })));
    this._list();
  }

  _list() {
    const box = document.getElementById('views-list');
    if (!box) return;
    const views = this.list();
    mount(box, views.length ? views.map((v) => el('div', { class: 'row saved-view', dataset: { view: v.id } },
      el('button', { class: 'link open', onclick: () => this.open(v.id) }, v.name || 'View'),
      el('span', { class: 'k' }, this.nameOf(v.author)),
      el('button', { class: 'btn small copy', title: 'Copy a link to this view', onclick: () => this.copyLink(v) }, 'Link'),
      this.mayChange(v) ? el('button', { class: 'btn small delete', onclick: () => this.remove(v.id) }, 'Delete') : null))
      : el('div', { class: 'hint' }, 'No saved views yet.'));
  }

  async copyLink(v) {
    this.lastLink = viewLink(this.conn.roomId, { hidden: v.hidden, isolated: v.isolated, section: v.section, camera: v.camera, colors: v.colors, ...(v.box ? { box: v.box } : {}) });
    try {
      await navigator.clipboard.writeText(this.lastLink);
      toast('Link to this view copied.');
    } catch {
      toast('Copy this link to share the view (the clipboard is not available here).');
    }
  }

  describe() {
    return this.list().map((v) => ({ id: v.id, name: v.name, author: v.author, hidden: v.hidden?.length ?? 0, section: v.section ?? null }));
  }
}
