// Projects: the list of the signed-in person's projects, create (with the account permission).
import { api, when } from './api.js';
import { el, mount } from '../ui/dom.js';
import { crumbs } from './webapp.js';

export async function projectsPage(root, session) {
  crumbs({ text: 'Projects' });
  const list = await api('GET', '/api/projects');
  const msg = el('p', { class: 'error', id: 'create-error' });
  const name = el('input', { id: 'new-project-name', placeholder: 'Project name', required: true, maxlength: 200 });
  const create = el('form', { class: 'row', id: 'create-project', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const p = await api('POST', '/api/projects', { name: name.value.trim() });
      location.href = `/projects/${encodeURIComponent(p.project_id)}`;
    } catch (err) {
      msg.textContent = err.message;
    }
  } }, name, el('button', { class: 'primary', type: 'submit' }, 'Create project'));
  mount(root,
    el('h1', {}, 'Projects'),
    el('section', { class: 'card' },
      list.length
        ? el('table', { id: 'project-list' }, el('tr', {}, el('th', {}, 'Project'), el('th', {}, 'Your role'), el('th', {}, 'Created')),
          list.map((p) => el('tr', {}, el('td', {}, el('a', { href: `/projects/${encodeURIComponent(p.project_id)}` }, p.name)),
            el('td', {}, p.role), el('td', { class: 'muted' }, when(p.created)))))
        : el('p', { class: 'muted', id: 'no-projects' }, session.user.create_projects
          ? 'No projects yet. Create one below, then upload a model into it.'
          : 'You are not in any project yet. Open an invite link from a project owner.')),
    session.user.create_projects
      ? el('section', { class: 'card' }, el('h2', {}, 'New project'), create, msg)
      : null);
}
