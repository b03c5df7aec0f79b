// Annotation snapshots: a PNG of the viewer as it is drawn now, uploaded to
// PUT /api/rooms/{room}/annotations/{id}/snapshot (the server stores it content-addressed and
// references it from the annotation, so BCF exports carry it), and shown in the issue panel.

/** PNG bytes of the 3D view: a frame is drawn and read back in the same task (the WebGL
 * drawing buffer is not preserved between frames). */
export function captureViewer(viewer) {
  viewer.beforeRender?.();
  viewer.renderer.render(viewer.scene, viewer.camera);
  return new Promise((resolve) => viewer.renderer.domElement.toBlob((b) => resolve(b), 'image/png'));
}

const url = (roomId, annotationId) => `/api/rooms/${encodeURIComponent(roomId)}/annotations/${encodeURIComponent(annotationId)}/snapshot`;

/** Upload; retries while the annotation itself is not committed yet (404). Returns the ref or null. */
export async function uploadSnapshot(roomId, annotationId, blob, authHeader, { tries = 20, waitMs = 300 } = {}) {
  for (let i = 0; i < tries; i += 1) {
    const res = await fetch(url(roomId, annotationId), {
      method: 'PUT', body: blob, headers: { Authorization: authHeader, 'Content-Type': 'image/png' },
    });
    if (res.ok) return (await res.json()).snapshot ?? null;
    if (res.status !== 404) throw new Error(`snapshot upload refused (${res.status})`);
    await new Promise((r) => setTimeout(r, waitMs));
  }
  return null;
}

const cache = new Map(); // sha256 -> object URL

/** An object URL for an annotation's snapshot (fetched with the bearer token), or null. */
export async function snapshotUrl(roomId, annotation, authHeader) {
  const sha = annotation?.snapshot?.sha256;
  if (typeof sha !== 'string') return null;
  if (cache.has(sha)) return cache.get(sha);
  const res = await fetch(url(roomId, annotation.id), { headers: { Authorization: authHeader } });
  if (!res.ok) return null;
  const obj = URL.createObjectURL(await res.blob());
  cache.set(sha, obj);
  return obj;
}
