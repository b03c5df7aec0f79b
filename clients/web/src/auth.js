// Credentials for the room: a bearer token from ?token=, from an invite exchanged over REST,
// or from this tab's earlier visit. Tokens live in sessionStorage (per tab) and are stripped
// from the address bar so they do not leak through history or screenshots.

const KEY = (room) => `vrcollab.token.${room}`;

/** Endpoint that trades an invite token for a bearer token (sync server REST). */
export const INVITE_ENDPOINT = '/api/invites/accept';

export async function exchangeInvite(invite, { name = 'Guest' } = {}) {
  const res = await fetch(INVITE_ENDPOINT, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ invite, name }),
  });
  if (!res.ok) {
    let reason = `HTTP ${res.status}`;
    try {
      const body = await res.json();
      reason = body.error?.message ?? body.detail?.message ?? body.detail ?? body.message ?? reason;
    } catch {
      // keep the status line
    }
    throw new Error(`invite refused: ${typeof reason === 'string' ? reason : JSON.stringify(reason)}`);
  }
  const body = await res.json();
  const token = body.token ?? body.access_token;
  if (typeof token !== 'string') throw new Error('invite exchange returned no token');
  return { token, projectId: body.project_id ?? null, role: body.role ?? null, name: body.name ?? null };
}

/** Resolve the token for `roomId`; returns null when the user has no way in. */
export async function resolveToken(roomId, params, name, storage = sessionStorage) {
  const direct = params.get('token');
  if (direct) {
    storage.setItem(KEY(roomId), direct);
    return direct;
  }
  const invite = params.get('invite');
  if (invite) {
    const { token } = await exchangeInvite(invite, { name });
    storage.setItem(KEY(roomId), token);
    return token;
  }
  return storage.getItem(KEY(roomId));
}

/** Remember a token for a room (after an invite opened at / picked the room). */
export function rememberToken(roomId, token, storage = sessionStorage) {
  storage.setItem(KEY(roomId), token);
}

/** The rooms of a project the token's user belongs to. */
export async function listRooms(projectId, token) {
  const res = await fetch(`/api/projects/${encodeURIComponent(projectId)}/rooms`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (!res.ok) throw new Error(`could not list rooms: HTTP ${res.status}`);
  return res.json();
}

/** Remove credentials from the visible URL. */
export function scrubUrl() {
  const u = new URL(location.href);
  let changed = false;
  for (const k of ['token', 'invite']) {
    if (u.searchParams.has(k)) {
      u.searchParams.delete(k);
      changed = true;
    }
  }
  if (changed) history.replaceState(null, '', u.pathname + (u.search ? u.search : '') + u.hash);
}
