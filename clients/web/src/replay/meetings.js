// The project page's "Meetings" card: date, length, participants, recording; links to the
// replay and the minutes (HTML, PDF); owners set whether meetings may be recorded and how long
// they are kept, and delete recordings and meetings (docs/meetings.md).
import { api, when } from '../pages/api.js';
import { el, mount } from '../ui/dom.js';

const length = (s) => {
  if (s == null) return 'running';
  const r = Math.round(s);
  return r >= 3600 ? `${Math.floor(r / 3600)} h ${Math.floor((r % 3600) / 60)} min` : `${Math.floor(r / 60)} min ${r % 60} s`;
};
const size = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1e3))} kB`);

export async function renderMeetings(root, { projectId, can }) {
  const enc = encodeURIComponent(projectId);
  const msg = el('p', { class: 'error', id: 'meetings-error' });
  const list = el('div', { id: 'meeting-list' });
  const load = async () => {
    const meetings = await api('GET', `/api/projects/${enc}/meetings`);
    mount(list, meetings.length ? el('table', {},
      el('tr', {}, ['Date', 'Room', 'Length', 'Participants', 'Recording', 'Minutes', ''].map((h) => el('th', {}, h))),
      meetings.map((m) => {
        const id = encodeURIComponent(m.meeting_id);
        const del = async (path, what) => {
          if (!window.confirm(`Delete this ${what}? This cannot be undone.`)) return;
          try { await api('DELETE', path); await load(); } catch (err) { msg.textContent = err.message; }
        };
        return el('tr', { dataset: { meeting: m.meeting_id } },
          el('td', {}, when(m.started)),
          el('td', {}, m.room_name ?? m.room_id),
          el('td', {}, length(m.duration_s)),
          el('td', { class: 'meeting-people' }, m.participants.map((p) => p.name).join(', ')),
          el('td', {}, m.recording && m.replay_url
            ? [el('a', { class: 'meeting-replay', href: m.replay_url }, 'Replay'), ` (${size(m.log_bytes)})`]
            : el('span', { class: 'muted' }, m.running ? (m.recording ? 'recording…' : 'not recorded') : 'not recorded')),
          el('td', {}, el('a', { class: 'meeting-html', href: m.minutes_html_url, target: '_blank', rel: 'noopener' }, 'HTML'), ' ',
            el('a', { class: 'meeting-pdf', href: m.minutes_pdf_url, download: '' }, 'PDF')),
          el('td', {}, can('owner') && !m.running ? [
            m.recording ? el('button', { class: 'meeting-del-rec', onclick: () => del(`/api/meetings/${id}/recording`, 'recording') }, 'Delete recording') : null,
            ' ', el('button', { class: 'meeting-del', onclick: () => del(`/api/meetings/${id}`, 'meeting') }, 'Delete')] : ''));
      }))
      : el('p', { class: 'muted', id: 'no-meetings' }, 'No meetings yet: a meeting starts when the first person joins a room.'));
  };
  let form = null;
  if (can('owner')) {
    const st = await api('GET', `/api/projects/${enc}/meeting-settings`);
    const rec = el('input', { type: 'checkbox', id: 'meeting-recording', checked: st.recording });
    const keep = el('input', { type: 'number', id: 'meeting-retention', min: 1, max: 36500, placeholder: 'forever', value: st.retention_days ?? '', style: { width: '6em' } });
    const saved = el('span', { class: 'muted', id: 'meeting-settings-saved' });
    form = el('form', { class: 'row', id: 'meeting-settings', onsubmit: async (e) => {
      e.preventDefault();
      try {
        await api('PUT', `/api/projects/${enc}/meeting-settings`, { recording: rec.checked, retention_days: keep.value ? Number(keep.value) : null });
        saved.textContent = 'saved';
        msg.textContent = '';
      } catch (err) {
        msg.textContent = err.message;
      }
    } }, el('label', {}, rec, ' Record meetings (everyone in the room sees it)'), ' Keep for', keep, 'days',
    el('button', { type: 'submit' }, 'Save'), saved);
  }
  mount(root, form, list, msg);
  await load();
}
