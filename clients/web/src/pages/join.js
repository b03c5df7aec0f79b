// Join: an invite link (held by the server in an HttpOnly cookie after its redirect) or a short
// typed code becomes a membership and this browser's session; a signed-in person stays itself.
import { api, ApiError } from './api.js';
import { el, mount } from '../ui/dom.js';
import { crumbs } from './webapp.js';

const REASONS = {
  invite_used: 'This invite has already been used. Ask the project owner for a new one.',
  invite_revoked: 'This invite was revoked by the project owner.',
  invite_expired: 'This invite has expired. Ask the project owner for a new one.',
  bad_invite: 'This invite is not valid. Check the link or the code.',
  rate_limited: 'Too many failed attempts from this address; wait a few minutes.',
};

export async function joinPage(root, session, params) {
  crumbs({ text: 'Join a project' });
  let held = null;
  try {
    held = await api('GET', '/api/session/invite');
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
  }
  const error = el('p', { class: 'error', id: 'join-error' }, params.get('error') ? (REASONS[params.get('error')] ?? params.get('error')) : '');
  const name = el('input', { id: 'join-name', placeholder: 'Your name', maxlength: 100, value: session.signed_in ? session.user.name : '' });
  const code = el('input', { id: 'join-code', placeholder: 'Code, e.g. K7QM-3XPA', maxlength: 20, autocapitalize: 'characters' });
  const submit = async (e) => {
    e.preventDefault();
    error.textContent = '';
    try {
      const body = { name: name.value.trim() || undefined };
      if (!held) body.code = code.value.trim();
      const out = await api('POST', '/api/session/join', body);
      location.href = out.rooms.length === 1 ? `/r/${encodeURIComponent(out.rooms[0].room_id)}` : `/projects/${encodeURIComponent(out.project_id)}`;
    } catch (err) {
      error.textContent = REASONS[err.code] ?? err.message;
    }
  };
  mount(root, el('section', { class: 'card', id: 'join' },
    el('h1', {}, held ? `Join “${held.project_name}”` : 'Join with a code'),
    held ? el('p', {}, 'You are invited as ', el('b', { id: 'join-role' }, held.role), '.') : el('p', { class: 'muted' }, 'Type the short code the project owner showed you.'),
    el('form', { class: 'row', id: 'join-form', onsubmit: submit },
      session.signed_in ? el('span', {}, `as ${session.user.name}`) : name,
      held ? null : code,
      el('button', { class: 'primary', type: 'submit', id: 'join-submit' }, 'Join')),
    error));
}
