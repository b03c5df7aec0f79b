// Model tree and search (pure): parts grouped by their spatial path (site / building / storey,
// the glTF group nodes above a part) and class, and a search over name, GlobalId, class and
// every property value. Built once per model; searching is a linear scan over prepared strings
// (20k elements: a few milliseconds).

/** entries: [{node, name, element_id, ifc_class, path: [str], properties}] -> index */
export function buildIndex(entries) {
  const root = { name: 'Model', children: new Map(), nodes: [], count: 0 };
  const items = [];
  for (const e of entries) {
    let g = root;
    g.count += 1;
    for (const step of [...(e.path ?? []), e.ifc_class ?? 'Other']) {
      if (!g.children.has(step)) g.children.set(step, { name: step, children: new Map(), nodes: [], count: 0 });
      g = g.children.get(step);
      g.count += 1;
    }
    g.nodes.push(e.node);
    const values = [];
    for (const group of Object.values(e.properties ?? {})) {
      if (group && typeof group === 'object') for (const v of Object.values(group)) if (v !== null && typeof v !== 'object') values.push(String(v));
    }
    items.push({
      node: e.node, name: e.name ?? e.node, ifc_class: e.ifc_class ?? null, element_id: e.element_id ?? null,
      haystack: [e.name, e.node, e.element_id, e.ifc_class, ...values].filter(Boolean).join('\n').toLowerCase(),
    });
  }
  return { root, items };
}

/** Parts matching every word of `query` (case-insensitive substrings), at most `limit`. */
export function search(index, query, limit = 200) {
  const words = String(query ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return { results: [], total: 0 };
  const results = [];
  let total = 0;
  for (const it of index.items) {
    if (words.every((w) => it.haystack.includes(w))) {
      total += 1;
      if (results.length < limit) results.push({ node: it.node, name: it.name, ifc_class: it.ifc_class, element_id: it.element_id });
    }
  }
  return { results, total };
}

/** Every part node under a tree group. */
export function groupNodes(group) {
  const out = [...group.nodes];
  for (const c of group.children.values()) out.push(...groupNodes(c));
  return out;
}
