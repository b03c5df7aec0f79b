// One project: upload with progress and the device budget, models and versions (compare),
// rooms, members and roles, invites (QR + short code) and the audit log.
import { api, upload, followJob, when } from './api.js';
import { el, mount } from '../ui/dom.js';
import { crumbs } from './webapp.js';
import { qrElement } from './qr.js';
import { renderMeetings } from '../replay/meetings.js';
import { ROLES } from '../state/protocol.gen.js';

const RANK = Object.fromEntries(ROLES.map((r, i) => [r, i])); // ROLES: lowest first
const DEVICE_NAMES = { quest2: 'Quest 2', quest3: 'Quest 3', desktop: 'Desktop', phone: 'Phone' };

const fmt = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : '–');

/** The per-headset budget table of a manifest's `devices`. */
export function budgetTable(manifest) {
  const devices = manifest.devices ?? {};
  return el('table', { id: 'budget' },
    el('tr', {}, ['Device', 'Result', 'Level it loads', 'Triangles', 'Budget', 'Draw calls'].map((h) => el('th', {}, h))),
    Object.entries(devices).map(([name, d]) => el('tr', { dataset: { device: name } },
      el('td', {}, DEVICE_NAMES[name] ?? name),
      el('td', { class: `status-${d.status}` }, d.status),
      el('td', {}, d.level ?? ''),
      el('td', {}, fmt(d.triangles)),
      el('td', {}, fmt(d.budget_triangles)),
      el('td', {}, `${fmt(d.draw_calls)} / ${fmt(d.budget_draw_calls)}`))));
}

function section(id, title, ...body) {
  return el('section', { class: 'card', id }, el('h2', {}, title), ...body);
}

export async function projectPage(root, session, projectId) {
  const enc = encodeURIComponent(projectId);
  const projects = await api('GET', '/api/projects');
  const project = projects.find((p) => p.project_id === projectId);
  if (!project) {
    mount(root, section('missing', 'Project not found', el('p', {}, 'This project does not exist or you are not a member. ', el('a', { href: '/projects' }, 'Your projects'))));
    return;
  }
  const role = project.role;
  const can = (r) => RANK[role] >= RANK[r];
  crumbs({ text: 'Projects', href: '/projects' }, { text: project.name });
  const title = el('h1', { id: 'project-title' }, project.name);
  const parts = {
    upload: el('div'), models: el('div'), rooms: el('div'), meetings: el('div'), issues: el('div'), members: el('div'), invites: el('div'), audit: el('div'),
  };
  mount(root, title,
    can('owner') ? renameForm(project, title) : null,
    can('owner') ? section('settings', 'Project settings', settingsForm(project)) : null,
    can('editor') ? section('upload', 'Upload a model', parts.upload) : null,
    section('models', 'Models and versions', parts.models),
    section('rooms', 'Rooms', parts.rooms),
    section('meetings', 'Meetings', parts.meetings),
    section('issues', 'Issues in all rooms', parts.issues),
    section('members', 'Members', parts.members),
    can('owner') ? section('invites', 'Invites', parts.invites) : null,
    can('owner') ? section('audit', 'Audit log', parts.audit) : null);
  const ctx = { projectId, enc, role, can, session, parts };
  ctx.refresh = async () => {
    const [models, rooms] = await Promise.all([api('GET', `/api/projects/${enc}/models`), api('GET', `/api/projects/${enc}/rooms`)]);
    ctx.models = models;
    renderModels(ctx, models);
    renderRooms(ctx, rooms, models);
  };
  if (can('editor')) renderUpload(ctx);
  await ctx.refresh();
  await renderMembers(ctx);
  await renderMeetings(parts.meetings, ctx);
  await renderIssues(ctx);
  if (can('owner')) {
    renderInvites(ctx);
    await renderAudit(ctx);
  }
}

function renameForm(project, title) {
  const input = el('input', { id: 'rename-input', value: project.name, maxlength: 200 });
  const msg = el('span', { class: 'error' });
  return el('form', { class: 'row', id: 'rename', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const out = await api('PATCH', `/api/projects/${encodeURIComponent(project.project_id)}`, { name: input.value.trim() });
      title.textContent = out.name;
      msg.textContent = '';
    } catch (err) {
      msg.textContent = err.message;
    }
  } }, input, el('button', { type: 'submit' }, 'Rename'), msg);
}

/** Owner: per-project settings (PATCH /api/projects/{id}/settings; docs/voice.md R27). */
function settingsForm(project) {
  const url = `/api/projects/${encodeURIComponent(project.project_id)}/settings`;
  const box = el('input', { type: 'checkbox', id: 'setting-viewers-speak', disabled: true });
  const msg = el('span', { class: 'error', id: 'settings-error' });
  const note = el('span', { class: 'muted', id: 'setting-viewers-speak-source' });
  const show = (s) => {
    box.checked = s.voice_viewers_may_speak;
    box.disabled = false;
    note.textContent = s.set.includes('voice_viewers_may_speak') ? '' : ' (server default)';
  };
  box.addEventListener('change', async () => {
    box.disabled = true;
    try {
      show(await api('PATCH', url, { voice_viewers_may_speak: box.checked }));
      msg.textContent = '';
    } catch (err) {
      msg.textContent = err.message;
      box.disabled = false;
    }
  });
  api('GET', url).then(show, (err) => { msg.textContent = err.message; });
  return el('p', { class: 'row' }, el('label', {}, box, ' Viewers may speak in voice'), note, msg);
}

// --- upload -------------------------------------------------------------------------------

function renderUpload(ctx) {
  const file = el('input', { type: 'file', id: 'upload-file', accept: '.ifc,.step,.stp,.stl,.obj,.ply,.glb,.gltf,.3mf,.off,.dae,.zip' });
  const upBar = el('div');
  const convBar = el('div');
  const upText = el('span', { id: 'upload-percent', class: 'muted' });
  const stage = el('span', { id: 'convert-stage', class: 'muted' });
  const convText = el('span', { id: 'convert-percent' });
  const error = el('p', { class: 'error', id: 'upload-error' });
  const result = el('div', { id: 'upload-result' });
  const cancel = el('button', { id: 'upload-cancel', hidden: true }, 'Cancel');
  const progress = el('div', { id: 'upload-progress', hidden: true },
    el('div', {}, 'Upload ', upText), el('div', { class: 'bar' }, upBar),
    el('div', {}, 'Conversion ', convText, ' ', stage), el('div', { class: 'bar' }, convBar), cancel);
  const drop = el('div', { class: 'drop', id: 'drop' }, 'Drop a CAD or BIM file here (IFC, STEP, STL, OBJ, glTF, …) or ', file);
  let active = null;
  const start = (f) => {
    if (!f || active) return;
    error.textContent = '';
    mount(result);
    progress.hidden = false;
    cancel.hidden = false;
    upBar.style.width = '0%';
    convBar.style.width = '0%';
    convText.textContent = 'waiting';
    stage.textContent = '';
    let best = 0;
    const job = upload(`/api/projects/${ctx.enc}/models`, f, (fr) => {
      upBar.style.width = `${(fr * 100).toFixed(1)}%`;
      upText.textContent = `${Math.round(fr * 100)}%`;
    });
    active = { abort: job.abort, stop: null };
    cancel.onclick = async () => {
      if (!active) return;
      if (!active.job) { active.abort(); return; }  // still uploading
      try {
        await api('POST', `/api/jobs/${encodeURIComponent(active.job.job_id)}/cancel`);
      } catch (err) {
        error.textContent = err.message;
      }
    };
    job.promise.then((up) => {
      active.job = up.job;
      active.stop = followJob(up.job, async (j) => {
        best = Math.max(best, j.overall_percent ?? 0);  // never backwards between stages
        convBar.style.width = `${best}%`;
        convText.textContent = `${Math.round(best)}%`;
        stage.textContent = j.status === 'running' || j.status === 'queued' ? `(${j.stage})` : '';
        document.getElementById('upload').dataset.jobStatus = j.status;
        if (j.status === 'failed') {
          error.textContent = j.error_code === 'cancelled' ? 'Conversion cancelled.' : `Conversion failed: ${j.error ?? 'unknown error'}`;
          active = null;
          cancel.hidden = true;
          await ctx.refresh();
        } else if (j.status === 'done') {
          active = null;
          cancel.hidden = true;
          convText.textContent = 'done';
          const version = await api('GET', `/api/versions/${encodeURIComponent(up.version.version_id)}`);
          await showVersion(ctx, result, version);
          await ctx.refresh();
        }
      });
    }).catch((err) => {
      error.textContent = err.message;
      active = null;
      cancel.hidden = true;
    });
  };
  file.addEventListener('change', () => start(file.files[0]));
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    start(e.dataTransfer.files[0]);
  });
  mount(ctx.parts.upload, drop, progress, error, result);
}

async function showVersion(ctx, box, version) {
  const manifest = await api('GET', version.manifest_url);
  const name = el('input', { id: 'version-room-name', placeholder: 'Room name', value: `Review v${version.number}` });
  const open = el('form', { class: 'row', onsubmit: async (e) => {
    e.preventDefault();
    const room = await api('POST', `/api/versions/${encodeURIComponent(version.version_id)}/rooms`, { name: name.value.trim() || 'Review' });
    location.href = `/r/${encodeURIComponent(room.room_id)}`;
  } }, name, el('button', { class: 'primary', type: 'submit', id: 'version-open-room' }, 'Open a room on this version'));
  mount(box, el('h2', {}, `${version.source_name}: version ${version.number} ready`),
    el('p', { class: 'muted' }, 'Device budget: which level each headset loads, and whether it fits.'),
    budgetTable(manifest), ctx.can('editor') ? open : null);
}

// --- models and versions ---------------------------------------------------------------------

function renderModels(ctx, models) {
  if (!models.length) {
    mount(ctx.parts.models, el('p', { class: 'muted', id: 'no-models' }, ctx.can('editor') ? 'No models yet: drop a file above to upload the first one.' : 'No models yet: an editor of this project uploads them.'));
    return;
  }
  const detail = el('div', { id: 'version-detail' });
  const compareBox = el('div', { id: 'compare-result' });
  mount(ctx.parts.models, models.map((m) => {
    const ready = m.versions.filter((v) => v.status === 'ready');
    const pick = (id) => el('select', { id }, ready.map((v) => el('option', { value: v.version_id }, `v${v.number} ${v.source_name}`)));
    const a = pick(`cmp-a-${m.model_id}`);
    const b = pick(`cmp-b-${m.model_id}`);
    if (ready.length > 1) b.value = ready[ready.length - 1].version_id;
    return el('div', { class: 'model', dataset: { model: m.model_id } },
      el('h3', {}, m.name),
      el('table', {}, el('tr', {}, ['Version', 'File', 'Status', 'Uploaded', ''].map((h) => el('th', {}, h))),
        m.versions.slice().reverse().map((v) => el('tr', {},
          el('td', {}, `v${v.number}`), el('td', {}, v.source_name),
          el('td', {}, v.status === 'failed' && v.job?.error ? `failed: ${v.job.error}` : v.status),
          el('td', { class: 'muted' }, when(v.created)),
          el('td', {}, v.status === 'ready' ? el('button', { onclick: () => showVersion(ctx, detail, v) }, 'Budget and room') : '')))),
      ready.length > 1 ? el('form', { class: 'row', onsubmit: async (e) => {
        e.preventDefault();
        try {
          const c = await api('GET', `/api/versions/${encodeURIComponent(a.value)}/compare/${encodeURIComponent(b.value)}`);
          mount(compareBox, el('p', { id: 'compare-summary' },
            `v${c.from.number} → v${c.to.number}: ${c.added} added, ${c.changed} changed, ${c.removed} removed, ${c.unchanged} unchanged`));
        } catch (err) {
          mount(compareBox, el('p', { class: 'error' }, err.message));
        }
      } }, 'Compare ', a, ' with ', b, el('button', { type: 'submit' }, 'Compare')) : null);
  }), compareBox, detail);
}

// --- rooms ---------------------------------------------------------------------------------

function renderRooms(ctx, rooms, models) {
  const versions = models.flatMap((m) => m.versions.filter((v) => v.status === 'ready').map((v) => ({ m, v })));
  const name = el('input', { id: 'room-name', placeholder: 'Room name', maxlength: 200 });
  const on = el('select', { id: 'room-version' }, el('option', { value: '' }, 'no model'),
    versions.slice().reverse().map(({ m, v }) => el('option', { value: v.version_id }, `${m.name} v${v.number}`)));
  const msg = el('span', { class: 'error' });
  const form = el('form', { class: 'row', id: 'create-room', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const body = { name: name.value.trim() || 'Review' };
      const room = on.value ? await api('POST', `/api/versions/${encodeURIComponent(on.value)}/rooms`, body)
        : await api('POST', `/api/projects/${ctx.enc}/rooms`, body);
      location.href = `/r/${encodeURIComponent(room.room_id)}`;
    } catch (err) {
      msg.textContent = err.message;
    }
  } }, name, 'on', on, el('button', { class: 'primary', type: 'submit' }, 'Create room'), msg);
  const label = (r) => {
    const v = versions.find(({ v: x }) => x.version_id === r.model?.version_id);
    return v ? `${v.m.name} v${v.v.number}` : 'no model';
  };
  mount(ctx.parts.rooms,
    rooms.length ? el('table', { id: 'room-list' }, el('tr', {}, ['Room', 'Model', 'BCF', ''].map((h) => el('th', {}, h))),
      rooms.map((r) => el('tr', { dataset: { room: r.room_id } },
        el('td', {}, el('a', { href: `/r/${encodeURIComponent(r.room_id)}` }, r.name)),
        el('td', { class: 'muted' }, label(r), ctx.can('editor') && versions.length ? switcher(r, versions) : null),
        el('td', {}, el('a', { href: `/api/rooms/${encodeURIComponent(r.room_id)}/bcf?version=2.1`, download: '' }, 'BCF 2.1'), ' ',
          el('a', { href: `/api/rooms/${encodeURIComponent(r.room_id)}/bcf?version=3.0`, download: '' }, 'BCF 3.0'), ' ',
          ctx.can('reviewer') ? bcfImport(r) : null),
        el('td', {}, el('a', { class: 'btn', href: `/r/${encodeURIComponent(r.room_id)}` }, 'Open')))))
      : el('p', { class: 'muted', id: 'no-rooms' }, ctx.can('editor') ? 'No rooms yet: create one on a model version to review it together.' : 'No rooms yet.'),
    ctx.can('editor') ? form : null);
}

function switcher(room, versions) {
  const pick = el('select', { class: 'room-switch', 'aria-label': 'Switch version' }, el('option', { value: '' }, 'switch to…'),
    versions.filter(({ v }) => v.version_id !== room.model?.version_id).map(({ m, v }) => el('option', { value: v.version_id }, `${m.name} v${v.number}`)));
  pick.addEventListener('change', async () => {
    if (!pick.value) return;
    try {
      await api('PUT', `/api/rooms/${encodeURIComponent(room.room_id)}/model`, { version_id: pick.value });
      location.reload();
    } catch (err) {
      pick.replaceWith(el('span', { class: 'error' }, err.message));
    }
  });
  return [' ', pick];
}

function bcfImport(room) {
  const input = el('input', { type: 'file', accept: '.bcf,.bcfzip,.zip', class: 'bcf-file', hidden: true });
  const note = el('span', { class: 'muted bcf-note' });
  input.addEventListener('change', async () => {
    const f = input.files[0];
    if (!f) return;
    note.textContent = 'importing…';
    try {
      const out = await upload(`/api/rooms/${encodeURIComponent(room.room_id)}/bcf`, f, () => {}).promise;
      note.textContent = `imported ${out.imported.length} topic(s), ${out.comments} comment(s)${out.skipped.length ? `, skipped ${out.skipped.length}` : ''}`;
    } catch (err) {
      note.textContent = err.message;
    }
  });
  return el('span', {}, el('button', { type: 'button', onclick: () => input.click() }, 'Import BCF'), input, note);
}

// --- issues across rooms ---------------------------------------------------------------------

async function renderIssues(ctx) {
  const members = await api('GET', `/api/projects/${ctx.enc}/members`);
  const status = el('select', { id: 'issue-status' }, el('option', { value: '' }, 'any status'), ['open', 'in_progress', 'resolved', 'closed'].map((s) => el('option', { value: s }, s)));
  const assignee = el('select', { id: 'issue-assignee' }, el('option', { value: '' }, 'anyone'), members.map((m) => el('option', { value: m.user_id }, m.name)));
  const label = el('input', { id: 'issue-label', placeholder: 'label', maxlength: 60 });
  const list = el('div', { id: 'issue-list' });
  const load = async () => {
    const q = new URLSearchParams();
    if (status.value) q.set('status', status.value);
    if (assignee.value) q.set('assignee', assignee.value);
    if (label.value.trim()) q.set('label', label.value.trim());
    const issues = await api('GET', `/api/projects/${ctx.enc}/issues?${q}`);
    mount(list, issues.length ? el('table', {}, el('tr', {}, ['Issue', 'Status', 'Assignee', 'Labels', 'Room'].map((h) => el('th', {}, h))),
      issues.map((i) => el('tr', { dataset: { issue: i.id } },
        el('td', {}, el('a', { href: i.link }, i.title || '(untitled)')), el('td', {}, i.status ?? ''),
        el('td', {}, i.assignee_name ?? ''), el('td', {}, (i.labels ?? []).join(', ')), el('td', {}, i.room_name))))
      : el('p', { class: 'muted' }, 'No issues match. Issues are pinned in a room (or imported from BCF).'));
  };
  for (const c of [status, assignee]) c.addEventListener('change', load);
  label.addEventListener('change', load);
  mount(ctx.parts.issues, el('div', { class: 'row' }, 'Filter:', status, assignee, label), list);
  await load();
}

// --- members -----------------------------------------------------------------------------------

async function renderMembers(ctx) {
  const members = await api('GET', `/api/projects/${ctx.enc}/members`);
  const msg = el('p', { class: 'error', id: 'members-error' });
  const row = (m) => {
    const url = `/api/projects/${ctx.enc}/members/${encodeURIComponent(m.user_id)}`;
    const roleCell = ctx.can('owner') && !m.you
      ? el('select', { class: 'member-role', onchange: async (e) => {
        try { await api('PUT', url, { role: e.target.value }); msg.textContent = ''; } catch (err) { msg.textContent = err.message; }
      } }, Object.keys(RANK).reverse().map((r) => el('option', { value: r, selected: r === m.role }, r)))
      : m.role;
    const remove = ctx.can('owner') && !m.you ? el('button', { class: 'member-remove', onclick: async () => {
      try { await api('DELETE', url); await renderMembers(ctx); } catch (err) { msg.textContent = err.message; }
    } }, 'Remove') : '';
    return el('tr', { dataset: { user: m.user_id } }, el('td', {}, m.name, m.you ? ' (you)' : ''), el('td', {}, roleCell), el('td', {}, remove));
  };
  mount(ctx.parts.members, el('table', { id: 'member-list' }, members.map(row)), msg);
}

// --- invites -----------------------------------------------------------------------------------

function renderInvites(ctx) {
  const role = el('select', { id: 'invite-role' }, ['reviewer', ...ROLES.filter((r) => r !== 'reviewer')].map((r) => el('option', { value: r }, r)));
  const days = el('select', { id: 'invite-expiry' }, [['1 hour', 3600], ['1 day', 86400], ['7 days', 604800], ['30 days', 2592000]]
    .map(([t, s]) => el('option', { value: s, selected: s === 604800 }, t)));
  const uses = el('input', { id: 'invite-uses', type: 'number', min: 1, max: 1000, value: 1, style: { width: '5em' } });
  const out = el('div', { id: 'invite-made' });
  const list = el('div', { id: 'invite-list' });
  const msg = el('span', { class: 'error' });
  const refresh = async () => {
    const invites = await api('GET', `/api/projects/${ctx.enc}/invites`);
    mount(list, invites.length ? el('table', {}, el('tr', {}, ['Role', 'Uses', 'Expires', 'Status', ''].map((h) => el('th', {}, h))),
      invites.map((i) => el('tr', { dataset: { invite: i.invite_id } },
        el('td', {}, i.role), el('td', {}, `${i.uses} / ${i.max_uses ?? '∞'}`), el('td', { class: 'muted' }, when(i.expires_at)),
        el('td', { class: 'invite-status' }, i.status),
        el('td', {}, i.status === 'active' ? el('button', { class: 'invite-revoke', onclick: async () => {
          await api('DELETE', `/api/projects/${ctx.enc}/invites/${encodeURIComponent(i.invite_id)}`);
          await refresh();
          await renderAudit(ctx);
        } }, 'Revoke') : ''))))
      : el('p', { class: 'muted' }, 'No invites yet: create one to bring reviewers in.'));
  };
  const form = el('form', { class: 'row', id: 'create-invite', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const inv = await api('POST', `/api/projects/${ctx.enc}/invites`, { role: role.value, expires_in_s: Number(days.value), max_uses: Number(uses.value) || 1 });
      // the QR holds the short-code link (a small, easy to scan code); the long link is for mail
      mount(out, el('div', { class: 'row' }, qrElement(inv.code_url),
        el('div', {}, el('p', {}, `Invite as ${inv.role}, ${inv.max_uses ?? 'unlimited'} use(s). Send this link:`),
          el('input', { id: 'invite-url', readonly: true, value: inv.url, style: { width: '32em' } }),
          el('p', {}, 'On a headset, open ', el('b', {}, inv.join_url), ' and type:'),
          el('p', { class: 'code', id: 'invite-code' }, inv.code))));
      msg.textContent = '';
      await refresh();
      await renderAudit(ctx);
    } catch (err) {
      msg.textContent = err.message;
    }
  } }, 'Role', role, 'expires in', days, 'uses', uses, el('button', { class: 'primary', type: 'submit' }, 'Create invite'), msg);
  mount(ctx.parts.invites, form, out, list);
  refresh();
}

async function renderAudit(ctx) {
  const log = await api('GET', `/api/projects/${ctx.enc}/audit?limit=50`);
  const who = (id, name) => name ?? (id ? id.slice(0, 10) : 'server');
  const what = (a) => {
    const d = a.detail ?? {};
    switch (a.action) {
      case 'member.joined': return `${d.name ?? who(a.target_id, a.target_name)} joined as ${d.role} with invite ${d.invite_id}`;
      case 'member.role': return `${who(a.actor_id, a.actor_name)} changed ${who(a.target_id, a.target_name)} from ${d.previous_role} to ${d.role}`;
      case 'member.removed': return `${who(a.actor_id, a.actor_name)} removed ${who(a.target_id, a.target_name)} (${d.previous_role})`;
      case 'invite.created': return `${who(a.actor_id, a.actor_name)} created invite ${d.invite_id} (${d.role}, ${d.max_uses ?? '∞'} uses)`;
      case 'invite.revoked': return `${who(a.actor_id, a.actor_name)} revoked invite ${d.invite_id}`;
      case 'member.left': return `${who(a.target_id, a.target_name)} left the project (${d.previous_role})`;
      case 'project.created': return `${who(a.actor_id, a.actor_name)} created the project`;
      case 'project.settings': return `${who(a.actor_id, a.actor_name)} changed the project settings (${Object.entries(d).map(([k, v]) => `${k}=${v}`).join(', ') || 'server defaults'})`;
      case 'project.renamed': return `${who(a.actor_id, a.actor_name)} renamed the project to “${d.name}”`;
      default: return `${a.action} by ${who(a.actor_id, a.actor_name)}`;
    }
  };
  mount(ctx.parts.audit, log.length ? el('table', { id: 'audit-log' }, log.map((a) => el('tr', {}, el('td', { class: 'muted' }, when(a.at)), el('td', {}, what(a)))))
    : el('p', { class: 'muted' }, 'Nothing yet.'));
}
