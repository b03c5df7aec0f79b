// REST helpers for the web app: same-origin fetch with the session cookie, the double-submit
// CSRF header on every write, and errors that carry the server's own message.

export function csrfToken() {
  const m = document.cookie.split(';').map((c) => c.trim()).find((c) => c.startsWith('vrc_csrf='));
  return m ? decodeURIComponent(m.slice('vrc_csrf='.length)) : '';
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function failure(res) {
  let code = 'error';
  let message = `HTTP ${res.status}`;
  try {
    const body = await res.json();
    const e = body.error ?? body.detail;
    if (e && typeof e === 'object' && !Array.isArray(e)) ({ code = code, message = message } = e);
    else if (Array.isArray(e)) message = e.map((d) => d.msg ?? String(d)).join('; ');
    else if (typeof e === 'string') message = e;
  } catch {
    // keep the status line
  }
  return new ApiError(res.status, code, message);
}

/** JSON request; throws ApiError with the server's message. */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw await failure(res);
  return res.status === 204 ? null : res.json();
}

/** Multipart upload with progress: {promise, abort}; onProgress(fraction). */
export function upload(path, file, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', path);
    xhr.setRequestHeader('X-CSRF-Token', csrfToken());
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) { onProgress(1); resolve(xhr.response); return; }
      const e = xhr.response?.error ?? {};
      reject(new ApiError(xhr.status, e.code ?? 'error', e.message ?? `upload failed: HTTP ${xhr.status}`));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'network', 'upload failed: network error')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'cancelled', 'upload cancelled')));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

/** Follow a job's server-sent events; onJob(job) per update; returns a close function. */
export function followJob(job, onJob) {
  const src = new EventSource(job.events_url);
  src.addEventListener('job', (e) => {
    const j = JSON.parse(e.data);
    onJob(j);
    if (j.status === 'done' || j.status === 'failed') src.close();
  });
  return () => src.close();
}

export function when(t) {
  return t ? new Date(t * 1000).toLocaleString() : '';
}
