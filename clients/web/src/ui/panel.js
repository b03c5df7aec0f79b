// Annotation panel: list with status filter, threads, reply / edit / status / priority /
// assignee / resolve / delete. Every user-provided string goes through textContent (dom.js).
import { el, mount, ago } from './dom.js';
import { STATUSES, PRIORITIES, newId } from '../state/codec.js';
import { annotationList } from '../state/room.js';
import { STATUS_COLORS, DEFAULT_STATUS_COLOR } from '../colors.js';

const STATUS_LABEL = { open: 'Open', in_progress: 'In progress', resolved: 'Resolved', closed: 'Closed' };

export class AnnotationPanel {
  /**
   * @param {HTMLElement} root
   * @param {object} app  {send(kind, fields), canSend(kind), flyToAnnotation(a), nameOf(userId), userId}
   */
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.filter = 'all';
    this.selected = null;
    this.editing = null;
    this.view = null;
    this.drafts = new Map();
  }

  select(id, fly = true) {
    this.selected = id;
    this.editing = null;
    const a = this.view?.annotations[id];
    if (a && fly) this.app.flyToAnnotation(a);
    this.render(this.view);
    this.root.querySelector(`[data-id="${CSS.escape(id)}"]`)?.scrollIntoView({ block: 'nearest' });
  }

  list() {
    return annotationList(this.view ?? { annotations: {} });
  }

  render(view) {
    this.view = view;
    // Keep what the user is typing (and the caret) across re-renders caused by others' edits.
    for (const ta of this.root.querySelectorAll('[data-draft]')) this.drafts.set(ta.dataset.draft, ta.value);
    const focused = document.activeElement?.dataset?.draft ?? null;
    const caret = focused ? document.activeElement.selectionStart : null;
    const all = annotationList(view);
    const shown = this.filter === 'all' ? all : all.filter((a) => a.status === this.filter);
    const numbers = new Map(all.map((a, i) => [a.id, i + 1]));
    document.getElementById('ann-count').textContent = String(all.filter((a) => a.status === 'open' || a.status === 'in_progress').length);
    const filter = el('select', {
      'aria-label': 'Filter by status', id: 'ann-filter',
      onchange: (e) => { this.filter = e.target.value; this.render(this.view); },
    },
    el('option', { value: 'all' }, `All (${all.length})`),
    STATUSES.map((s) => el('option', { value: s }, `${STATUS_LABEL[s]} (${all.filter((a) => a.status === s).length})`)));
    filter.value = this.filter;
    const hint = this.app.canSend('annotation.create')
      ? el('span', { class: 'hint' }, 'Use the pin tool and click the model to add an issue')
      : el('span', { class: 'hint' }, 'View only');
    const items = shown.map((a) => this._item(a, numbers.get(a.id)));
    mount(this.root,
      el('div', { class: 'filters' }, filter),
      items.length ? items : el('div', { class: 'empty' }, all.length ? 'No issues with this status.' : 'No issues yet.', el('br'), hint));
    if (focused) {
      const again = this.root.querySelector(`[data-draft="${CSS.escape(focused)}"]`);
      if (again) {
        again.focus();
        again.setSelectionRange(caret, caret);
      }
    }
  }

  _item(a, number) {
    const sel = a.id === this.selected;
    const head = el('div', { class: 'head' },
      el('span', { class: 'num', style: { background: STATUS_COLORS[a.status] ?? DEFAULT_STATUS_COLOR } }, String(number)),
      el('span', { class: 'title' }, a.title || firstLine(a.text) || 'Untitled issue'),
      el('span', { class: `badge st-${a.status}` }, STATUS_LABEL[a.status] ?? a.status));
    const meta = el('div', { class: 'meta' },
      el('span', { class: `pr-${a.priority}` }, `${a.priority} priority`),
      el('span', {}, a.assignee ? `@${a.assignee}` : 'unassigned'),
      el('span', {}, `${this.app.nameOf(a.author)}${importedFrom(a)} · ${ago(a.created)}`),
      a.comments.length ? el('span', {}, `${a.comments.length} ${a.comments.length === 1 ? 'reply' : 'replies'}`) : null,
      // Set by the server when the room moved to a new model version (re-anchoring).
      a.anchor_state && a.anchor_state !== 'ok' ? el('span', { class: 'badge st-in_progress' }, `element ${a.anchor_state}`) : null);
    const node = el('div', {
      class: `ann${sel ? ' selected' : ''}`, dataset: { id: a.id },
      onclick: (e) => { if (!e.target.closest('.thread')) this.select(a.id); },
    }, head, el('div', { class: 'body' }, a.text), meta, sel ? this._thread(a) : null);
    return node;
  }

  _thread(a) {
    const can = (k) => this.app.canSend(k);
    const parts = [];
    if (a.snapshot?.sha256 && this.app.snapshotUrl) {
      const img = el('img', { class: 'snapshot', alt: 'Snapshot of the view', id: `snap-${a.id}` });
      this.app.snapshotUrl(a).then((u) => { if (u) img.src = u; });
      parts.push(img);
    }
    if (this.editing === a.id) {
      const title = el('input', { value: a.title, placeholder: 'Title', 'aria-label': 'Title', style: { width: '100%' } });
      const text = el('textarea', { 'aria-label': 'Text', 'data-draft': `edit:${a.id}` });
      text.value = this.drafts.get(`edit:${a.id}`) ?? a.text;
      parts.push(title, text, el('div', { class: 'row' },
        el('button', { class: 'btn small primary', onclick: () => {
          this.app.send('annotation.update', { id: a.id, props: { title: title.value.trim(), text: text.value } });
          this.drafts.delete(`edit:${a.id}`);
          this.editing = null;
        } }, 'Save'),
        el('button', { class: 'btn small', onclick: () => { this.editing = null; this.render(this.view); } }, 'Cancel')));
    }
    for (const c of a.comments) {
      parts.push(el('div', { class: 'comment', dataset: { comment: c.id } },
        el('div', { class: 'who' }, `${this.app.nameOf(c.author)}${importedFrom(c)} · ${ago(c.created)}`),
        el('div', { class: 'txt' }, c.text)));
    }
    if (can('comment.add')) {
      const key = `reply:${a.id}`;
      const reply = el('textarea', { placeholder: 'Reply…', 'aria-label': 'Reply', 'data-draft': key });
      reply.value = this.drafts.get(key) ?? '';
      const send = () => {
        const text = reply.value.trim();
        if (!text) return;
        this.drafts.delete(key);
        reply.value = '';
        this.app.send('comment.add', { annotation_id: a.id, comment: { id: newId('c'), text } });
      };
      reply.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) send();
      });
      parts.push(reply, el('div', { class: 'row' }, el('button', { class: 'btn small primary', onclick: send }, 'Reply')));
    }
    if (can('annotation.update')) {
      const status = el('select', { 'aria-label': 'Status', onchange: (e) => this.app.send('annotation.update', { id: a.id, props: { status: e.target.value } }) },
        STATUSES.map((s) => el('option', { value: s }, STATUS_LABEL[s])));
      status.value = a.status;
      const prio = el('select', { 'aria-label': 'Priority', onchange: (e) => this.app.send('annotation.update', { id: a.id, props: { priority: e.target.value } }) },
        PRIORITIES.map((p) => el('option', { value: p }, p)));
      prio.value = a.priority;
      const assignee = assigneePicker(a.assignee, this.app.members?.() ?? []);
      assignee.addEventListener('change', () => this.app.send('annotation.update', { id: a.id, props: { assignee: assignee.value || null } }));
      parts.push(el('div', { class: 'row' }, status, prio, assignee));
      parts.push(el('div', { class: 'row' },
        a.status !== 'resolved' ? el('button', { class: 'btn small', onclick: () => this.app.send('annotation.update', { id: a.id, props: { status: 'resolved' } }) }, 'Resolve') : null,
        el('button', { class: 'btn small', onclick: () => { this.editing = a.id; this.render(this.view); } }, 'Edit'),
        this.app.retakeSnapshot ? el('button', { class: 'btn small', onclick: () => this.app.retakeSnapshot(a) }, a.snapshot ? 'Retake snapshot' : 'Take snapshot') : null,
        a.viewpoint ? el('button', { class: 'btn small', onclick: () => this.app.flyToAnnotation(a) }, 'Go to view') : null,
        can('annotation.delete') ? el('button', { class: 'btn small', onclick: () => {
          if (confirm('Delete this issue and its replies?')) this.app.send('annotation.delete', { id: a.id });
        } }, 'Delete') : null));
    }
    return el('div', { class: 'thread' }, parts);
  }
}

/** Assignee chooser: the room's project members by name (GET /api/rooms/{id}/members), plus a
 * value already set that is no member (e.g. from a BCF import), kept so it is not lost. */
function assigneePicker(current, members) {
  const names = [...new Set(members.map((m) => m.name))];
  const options = [el('option', { value: '' }, 'Unassigned'), ...names.map((n) => el('option', { value: n }, n))];
  if (current && !names.includes(current)) options.push(el('option', { value: current }, `${current} (not a member)`));
  const sel = el('select', { 'aria-label': 'Assignee', class: 'assignee' }, options);
  sel.value = current ?? '';
  return sel;
}

/** " (imported from X)" for a record a BCF import made: X is the archive's author, shown as
 * text beside the importer, who is the author of record (issue 8). */
function importedFrom(record) {
  const who = record.imported_from?.author;
  return typeof who === 'string' && who ? ` (imported from ${who})` : '';
}

function firstLine(text) {
  return String(text ?? '').split('\n')[0].slice(0, 80);
}
