// Chrome around the 3D view: toolbar, connection pill, people list, hover tooltip, part
// inspector, annotation composer, loading bar. Text only through textContent (dom.js).
import { el, mount, icon } from './dom.js';

export const TOOLS = [
  { id: 'select', label: 'Select (S)', key: 's', icon: ['M5 3l14 8-6 2-2 6z'] },
  { id: 'annotate', label: 'Add issue pin (A)', key: 'a', icon: ['M12 21s-6-5.5-6-11a6 6 0 1 1 12 0c0 5.5-6 11-6 11z', 'M12 10h.01'] },
  { id: 'measure', label: 'Measure a distance (D): click two points; snaps to corners, edge midpoints and edges', key: 'd', icon: ['M3 17L17 3l4 4L7 21z', 'M7 13l2 2', 'M10 10l2 2', 'M13 7l2 2'] },
  { id: 'markup', label: 'Draw markup (K): click points on the model, double-click or Enter to finish', key: 'k', icon: ['M3 21l3-1 11-11-2-2L4 18z', 'M14 6l2-2 4 4-2 2'] },
  { id: 'move', label: 'Move part (M)', key: 'm', icon: ['M12 3v18', 'M3 12h18', 'M9 6l3-3 3 3', 'M9 18l3 3 3-3', 'M6 9l-3 3 3 3', 'M18 9l3 3-3 3'] },
  { id: 'rotate', label: 'Rotate part (R)', key: 'r', icon: ['M20 12a8 8 0 1 1-3-6.2', 'M20 4v5h-5'] },
  { sep: true },
  { id: 'hide', label: 'Hide selected part for yourself (H)', key: 'h', action: true, icon: ['M3 3l18 18', 'M10.6 6.1A9.9 9.9 0 0 1 12 6c5 0 9 6 9 6a17 17 0 0 1-3 3.4', 'M6.3 7.7C4.2 9.3 3 12 3 12s4 6 9 6a9 9 0 0 0 4.1-1'] },
  { id: 'isolate', label: 'Isolate selected part for yourself (I)', key: 'i', action: true, icon: ['M4 4h6v6H4z', 'M14 14h6v6h-6z', 'M14 4h6v6h-6z'] },
  { id: 'showall', label: 'Show all parts (clears your own hide, isolate and section)', action: true, icon: ['M2 12s4-7 10-7 10 7 10 7-4 7-10 7S2 12 2 12z', 'M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z'] },
  { id: 'section', label: 'Section plane for yourself', action: true, icon: ['M4 20L20 4', 'M4 4h16v16H4z'] },
  { id: 'sectionbox', label: 'Section box around the selection (or the model), for yourself', action: true, icon: ['M4 8l8-4 8 4v8l-8 4-8-4z', 'M4 8l8 4 8-4', 'M12 12v8'] },
  { id: 'colorby', label: 'Colour by property (for yourself)', action: true, icon: ['M12 3a9 9 0 1 0 0 18c1 0 2-1 2-2s-1-1-1-2 1-2 2-2h2a4 4 0 0 0 4-4c0-4-4-8-9-8z', 'M7.5 10.5h.01', 'M10.5 7.5h.01', 'M15.5 7.5h.01'] },
  { id: 'compare', label: 'Compare with another version (added green, changed orange, removed red)', action: true, icon: ['M4 4h7v16H4z', 'M13 4h7v16h-7z', 'M7 9h1', 'M16 12h1', 'M16 9h1'] },
  { id: 'home', label: 'Frame model (F)', key: 'f', action: true, icon: ['M3 11l9-8 9 8', 'M5 10v10h14V10'] },
  { sep: true },
  { id: 'present', label: 'Present (others can follow you)', action: true, icon: ['M3 4h18v12H3z', 'M8 20h8', 'M12 16v4'] },
  { id: 'follow', label: 'Follow the presenter', action: true, icon: ['M1 12s4-8 11-8 11 8 11 8-4 8-11 8S1 12 1 12z', 'M12 8l4 4-4 4'] },
  { id: 'views', label: 'Saved views of the room (save yours, open one as your view)', action: true, icon: ['M5 3h14v18l-7-4-7 4z'] },
  { id: 'link', label: 'Copy a link to this view (camera, section, hidden and isolated parts)', action: true, icon: ['M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1', 'M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1'] },
  { id: 'share', label: 'Show my view to everyone (hidden parts, isolation, section, camera)', action: true, icon: ['M4 12v7h16v-7', 'M12 3v12', 'M7 8l5-5 5 5'] },
  { id: 'gather', label: 'Gather everyone to me', action: true, icon: ['M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2', 'M9 7a4 4 0 1 0 0 .01', 'M23 21v-2a4 4 0 0 0-3-3.9', 'M16 3.1a4 4 0 0 1 0 7.8'] },
];

/** The toolbar. A tool the user's role does not allow stays clickable but is marked
 * `aria-disabled` and says why (a toast) instead of doing nothing. */
export function buildToolbar(root, onTool, { onLocked = () => {} } = {}) {
  const buttons = new Map();
  const reasons = new Map();
  const press = (id) => {
    if (reasons.has(id)) onLocked(id, reasons.get(id));
    else onTool(id);
  };
  mount(root, TOOLS.map((t) => {
    if (t.sep) return el('div', { class: 'sep' });
    const b = el('button', { class: 'tool', title: t.label, 'aria-label': t.label, dataset: { tool: t.id }, onclick: () => press(t.id) }, icon(t.icon));
    buttons.set(t.id, b);
    return b;
  }));
  window.addEventListener('keydown', (e) => {
    if (e.target.closest?.('input, textarea, select') || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = TOOLS.find((x) => x.key === e.key.toLowerCase());
    if (t) press(t.id);
  });
  return {
    setActive(id, on) { buttons.get(id)?.classList.toggle('active', on); },
    /** `reason`: why the tool is not allowed (shown on click and as the tooltip). */
    setEnabled(id, on, reason = 'Your role does not allow this.') {
      const b = buttons.get(id);
      if (!b) return;
      const t = TOOLS.find((x) => x.id === id);
      if (on) {
        reasons.delete(id);
        b.removeAttribute('aria-disabled');
        b.title = t.label;
      } else {
        reasons.set(id, reason);
        b.setAttribute('aria-disabled', 'true');
        b.title = `${t.label}: ${reason}`;
      }
    },
  };
}

const STATE_LABEL = { idle: 'Not connected', connecting: 'Connecting…', syncing: 'Syncing…', online: 'Live', offline: 'Offline — reconnecting', closed: 'Disconnected' };

export function showConnection(state, detail, pending) {
  const pill = document.getElementById('conn');
  pill.dataset.state = state;
  let text = STATE_LABEL[state] ?? state;
  if (pending > 0) text += ` · ${pending} unsent`;
  pill.querySelector('.label').textContent = text;
  pill.title = detail ?? '';
}

export function renderPeople(root, { self, participants, presenter, following, onFollow }) {
  const rows = [];
  const row = (p, isSelf) => el('div', { class: 'person', dataset: { session: p.session_id ?? 'self' } },
    el('span', { class: 'sw', style: { background: safeColor(p.color) } }),
    el('span', { class: 'nm' }, isSelf ? `${p.name} (you)` : p.name),
    presenter && p.user_id === presenter ? el('span', { class: 'tag' }, 'presenting') : null,
    el('span', { class: 'dev' }, `${p.device ?? 'desktop'} · ${p.role ?? ''}`),
    !isSelf ? el('button', { class: 'btn small', onclick: () => onFollow(following === p.session_id ? null : p.session_id) }, following === p.session_id ? 'Unfollow' : 'Follow') : null);
  if (self) rows.push(row(self, true));
  for (const p of participants) rows.push(row(p, false));
  mount(root, rows);
  document.getElementById('people-count').textContent = String(rows.length);
}

/** Only #rrggbb colours reach CSS; anything else gets a neutral grey. */
export function safeColor(c) {
  return /^#[0-9a-fA-F]{6}$/.test(String(c)) ? c : '#8a98a8';
}

/** Bring a sidebar tab to the front. */
export function showTab(name) {
  for (const t of document.querySelectorAll('.tab')) t.classList.toggle('active', t.dataset.tab === name);
  for (const body of document.querySelectorAll('.tab-body')) body.hidden = body.id !== `tab-${name}`;
}

export function showTooltip(x, y, info) {
  const tip = document.getElementById('tooltip');
  if (!info) {
    tip.hidden = true;
    return;
  }
  // A few element properties right under the cursor; the Part tab has all of them.
  const props = [];
  for (const [group, values] of Object.entries(info.properties ?? {})) {
    if (!values || typeof values !== 'object') continue;
    for (const [k, v] of Object.entries(values)) {
      if (props.length < 4 && v !== null && typeof v !== 'object') props.push(el('div', {}, el('span', { class: 'k' }, `${k}: `), fmt(v, k, values[UNITS_KEY])));
    }
    if (props.length >= 4) break;
  }
  mount(tip,
    el('div', {}, el('strong', {}, info.name)),
    info.ifc_class ? el('div', { class: 'k' }, info.ifc_class) : null,
    info.element_id ? el('div', { class: 'k' }, info.element_id) : null,
    props);
  // x, y are page coordinates; the tooltip is positioned inside the stage.
  const stage = tip.offsetParent?.getBoundingClientRect() ?? { left: 0, top: 0, width: 1e9, height: 1e9 };
  tip.hidden = false;
  const w = tip.offsetWidth;
  const h = tip.offsetHeight;
  let left = x - stage.left + 12;
  let top = y - stage.top + 12;
  if (left + w > stage.width) left = Math.max(0, x - stage.left - 12 - w);
  if (top + h > stage.height) top = Math.max(0, y - stage.top - 12 - h);
  tip.style.left = `${left}px`;
  tip.style.top = `${top}px`;
}

export function showInspector(info, nodeState) {
  const box = document.getElementById('inspector');
  if (!info) {
    mount(box, el('div', { class: 'empty' }, 'Click a part of the model to see its properties.'));
    return;
  }
  const rows = [
    ['Node', info.node], ['Element id', info.element_id], ['Class', info.ifc_class],
    ['Visible', nodeState?.visible === false ? 'no' : 'yes'],
    ['Moved', nodeState?.transform ? 'yes' : 'no'],
  ].filter(([, v]) => v !== null && v !== undefined);
  const body = rows.map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, String(v))));
  const props = info.properties && typeof info.properties === 'object' ? info.properties : {};
  for (const [group, values] of Object.entries(props)) {
    if (values && typeof values === 'object') {
      body.push(el('tr', {}, el('td', { class: 'grp', colspan: 2 }, group)));
      for (const [k, v] of Object.entries(values)) {
        if (k !== UNITS_KEY) body.push(el('tr', {}, el('td', {}, k), el('td', {}, fmt(v, k, values[UNITS_KEY]))));
      }
    } else {
      body.push(el('tr', {}, el('td', {}, group), el('td', {}, fmt(values, group))));
    }
  }
  mount(box, el('h3', {}, info.name), el('table', {}, el('tbody', {}, body)));
}

/** The key of a property set's units ({property: symbol}, from the IFC unit assignment;
 * vrcollab/ingest/ifc_props.py): not a property. */
export const UNITS_KEY = '_units';

/** A property value for people: numbers rounded (IFC exports carry float noise such as
 * 50.23129999999995) with their unit: the set's `_units` entry (the file's own units, e.g.
 * `mm`) when the conversion recorded units, else the unit the name implies (SI). */
export function fmt(v, name = '', units = null) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') {
    const unit = units && typeof units === 'object' ? (typeof units[name] === 'string' ? units[name] : '') : unitOf(name);
    return formatNumber(v, unit);
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

const UNIT_RULES = [
  [/volume/i, 'm³'],
  [/area/i, 'm²'],
  [/(length|width|height|depth|thickness|perimeter|elevation|span|radius|diameter|offset)/i, 'm'],
  [/(angle|slope|pitch)/i, '°'],
  [/(weight|mass)$/i, 'kg'],
];

export function unitOf(name) {
  for (const [re, unit] of UNIT_RULES) if (re.test(String(name))) return unit;
  return '';
}

export function formatNumber(v, unit = '') {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && !unit) return String(v);
  const abs = Math.abs(v);
  let digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 1 ? 3 : 4;
  // Millimetres (and smaller-unit figures) need no more than hundredths.
  if (/^(mm|mm²|mm³)$/.test(unit)) digits = Math.min(digits, 2);
  const text = Number(v.toFixed(digits)).toString();
  return unit ? `${text} ${unit}` : text;
}

/** Annotation composer at a screen position; resolves {title, text, priority} or null. */
export function compose(x, y) {
  const box = document.getElementById('composer');
  return new Promise((resolve) => {
    const title = el('input', { placeholder: 'Title', 'aria-label': 'Issue title', id: 'composer-title' });
    const text = el('textarea', { placeholder: 'Describe the issue…', 'aria-label': 'Issue text', id: 'composer-text' });
    const prio = el('select', { 'aria-label': 'Priority', id: 'composer-priority' },
      ['low', 'normal', 'high', 'critical'].map((p) => el('option', { value: p }, p)));
    prio.value = 'normal';
    const done = (v) => {
      box.hidden = true;
      box.replaceChildren();
      resolve(v);
    };
    const save = () => done({ title: title.value.trim(), text: text.value, priority: prio.value });
    box.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') done(null);
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) save();
    });
    mount(box, el('h4', {}, 'New issue'), title, text,
      el('div', { class: 'row' }, prio, el('span', { class: 'spacer', style: { flex: '1' } }),
        el('button', { class: 'btn small', onclick: () => done(null) }, 'Cancel'),
        el('button', { class: 'btn small primary', id: 'composer-save', onclick: save }, 'Save')));
    const stage = document.getElementById('stage').getBoundingClientRect();
    box.style.left = `${Math.min(Math.max(8, x - stage.left + 12), stage.width - 300)}px`;
    box.style.top = `${Math.min(Math.max(8, y - stage.top + 12), stage.height - 220)}px`;
    box.hidden = false;
    title.focus();
  });
}

export function showLoading(text, fraction) {
  const box = document.getElementById('loading');
  if (text === null) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.querySelector('.text').textContent = text;
  box.querySelector('.fill').style.width = `${Math.round(Math.max(0, Math.min(1, fraction)) * 100)}%`;
}
