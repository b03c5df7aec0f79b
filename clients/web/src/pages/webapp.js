// The web app (projects, uploads, versions, rooms, members, invites): a small router over the
// pages in this folder. Everything comes from this server; text goes in through textContent.
import { api } from './api.js';
import { el, mount } from '../ui/dom.js';
import { projectsPage } from './projects.js';
import { projectPage } from './project.js';
import { joinPage } from './join.js';

const main = () => document.getElementById('wa-main');

export function crumbs(...items) {
  mount(document.getElementById('wa-crumbs'), items.map((c, i) => [i ? ' / ' : '', c.href ? el('a', { href: c.href }, c.text) : c.text]));
}

const SIGNIN_ERRORS = {
  bad_signin: 'That sign-in link was already used or is not valid. Ask the server owner for a new one (vrcollab account signin-link).',
  signin_expired: 'That sign-in link has expired. Run "vrcollab account signin-link" for a new one.',
  rate_limited: 'Too many failed attempts from this address; wait a few minutes.',
};

/** The sign-in link landed here (its code is held in an HttpOnly cookie): one click spends it. */
function signinPage(session) {
  crumbs({ text: 'Sign in' });
  const error = el('p', { class: 'error', id: 'signin-error' });
  const button = el('button', { class: 'primary', id: 'signin-submit', onclick: async () => {
    button.disabled = true;
    try {
      await api('POST', '/api/session/signin');
      location.href = '/projects';
    } catch (err) {
      error.textContent = SIGNIN_ERRORS[err.code] ?? err.message;
      button.disabled = false;
    }
  } }, 'Sign in');
  mount(main(), el('section', { class: 'card', id: 'signin' },
    el('h1', {}, 'Sign in to vrcollab'),
    session.signed_in ? el('p', { class: 'muted' }, `This browser is signed in as ${session.user.name}; signing in again switches the account.`) : null,
    el('p', {}, 'This browser will stay signed in (in every tab, after restarts) until you sign out.'),
    button, error));
}

function welcome(session, params) {
  const errors = {
    bad_signin: 'That sign-in link was already used or is not valid. Ask the server owner for a new one (vrcollab account signin-link).',
    signin_expired: 'That sign-in link has expired. Run "vrcollab account signin-link" for a new one.',
    rate_limited: 'Too many failed attempts from this address; wait a few minutes.',
  };
  const err = params.get('error');
  mount(main(), el('section', { class: 'card', id: 'welcome' },
    el('h1', {}, 'Welcome to vrcollab'),
    err ? el('p', { class: 'error', id: 'welcome-error' }, errors[err] ?? `Sign-in failed (${err}).`) : null,
    session.signed_in
      ? el('p', {}, 'You are signed in. ', el('a', { href: '/projects' }, 'Go to your projects'))
      : [el('p', {}, 'Sign in with the one-time link the server printed on its first start, or open an invite link you were sent.'),
        el('p', {}, 'Have a short code for a headset? ', el('a', { href: '/join' }, 'Type it here')) ]));
}

function userBox(session) {
  const box = document.getElementById('wa-user');
  if (!session.signed_in) { mount(box, el('a', { href: '/join' }, 'Join with a code')); return; }
  const out = el('button', { id: 'signout', onclick: async () => {
    await api('POST', '/api/session/signout');
    location.href = '/welcome';
  } }, 'Sign out');
  mount(box, el('span', { id: 'whoami' }, session.user.name), ' ', out);
}

async function boot() {
  const params = new URLSearchParams(location.search);
  const session = await api('GET', '/api/session');
  window.__webapp = { session };
  userBox(session);
  const path = location.pathname.replace(/\/+$/, '');
  const m = path.match(/^\/projects\/([A-Za-z0-9_.-]{1,128})$/);
  if (path === '/join') return joinPage(main(), session, params);
  if (path === '/signin') return signinPage(session);
  if (!session.signed_in && path !== '/welcome') { location.replace('/welcome'); return undefined; }
  if (path === '/projects') return projectsPage(main(), session);
  if (m) return projectPage(main(), session, m[1]);
  return welcome(session, params);
}

boot().then(() => { document.body.dataset.ready = '1'; }).catch((err) => {
  mount(main(), el('section', { class: 'card' }, el('p', { class: 'error' }, `Something went wrong: ${err.message ?? err}`)));
  document.body.dataset.ready = '1';
});
