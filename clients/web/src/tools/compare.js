// Compare two versions of a model (pure; no three.js): elements matched by key (IFC GlobalId,
// else `node:<name>`, as the server's re-anchoring does: vrcollab/jobs/elements.py) and compared
// by geometry hash (docs/manifest.md: SHA-256 of the element's world geometry on a 1 mm grid, so
// moving an element changes it). Added and changed elements are found in the new version, removed
// ones in the old.

/** The element table's hash file (`elements.hash`, 32 bytes per element) as hex strings. */
export function hashHex(buffer, count) {
  const bytes = new Uint8Array(buffer ?? new ArrayBuffer(0));
  if (bytes.length !== count * 32) return null;
  const out = new Array(count);
  const hex = [];
  for (let b = 0; b < 256; b += 1) hex.push(b.toString(16).padStart(2, '0'));
  for (let i = 0; i < count; i += 1) {
    let s = '';
    for (let k = i * 32; k < i * 32 + 32; k += 1) s += hex[bytes[k]];
    out[i] = s;
  }
  return out;
}

/** The compare key of an element: its GlobalId, else `node:<name>`, else null. */
export function compareKey(globalId, name) {
  if (typeof globalId === 'string' && globalId) return globalId;
  if (typeof name === 'string' && name) return `node:${name}`;
  return null;
}

/**
 * One version's elements for comparing: [{key, row, hash}] (rows without a key are left out).
 * @param {{globalIds: (string|null)[], names: (string|null)[], hashes: (string|null)[]}} v
 */
export function versionElements({ globalIds, names, hashes }) {
  const out = [];
  const n = Math.max(globalIds?.length ?? 0, names?.length ?? 0);
  for (let row = 0; row < n; row += 1) {
    const key = compareKey(globalIds?.[row], names?.[row]);
    if (key) out.push({ key, row, hash: hashes?.[row] ?? null });
  }
  return out;
}

/**
 * What changed from `older` to `newer` (each from versionElements):
 * {added: [newRow], changed: [newRow], removed: [oldRow], unchanged: n}, rows in table order.
 * An element whose hash is unknown on either side counts as changed (someone has to look).
 */
export function diffVersions(older, newer) {
  const before = new Map(older.map((e) => [e.key, e]));
  const seen = new Set();
  const added = [];
  const changed = [];
  let unchanged = 0;
  for (const e of newer) {
    seen.add(e.key);
    const o = before.get(e.key);
    if (!o) added.push(e.row);
    else if (o.hash && e.hash && o.hash === e.hash) unchanged += 1;
    else changed.push(e.row);
  }
  const removed = older.filter((e) => !seen.has(e.key)).map((e) => e.row);
  return { added, changed, removed, unchanged };
}
