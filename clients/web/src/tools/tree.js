// Model tree and search (pure): parts grouped by their spatial path (site / building / storey)
// and class, and a search over name, GlobalId, class and every property value. Built once per
// model from summaries; property values join the search as their chunks arrive
// (indexProperties), so a 20k-element tiled model is searchable by name at once. Searching is
// a linear scan over prepared strings (20k elements: a few milliseconds).

function propertyText(properties) {
  const values = [];
  for (const group of Object.values(properties ?? {})) {
    if (group && typeof group === 'object') for (const v of Object.values(group)) if (v !== null && typeof v !== 'object') values.push(String(v));
  }
  return values.join('\n').toLowerCase();
}

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
    const base = [e.name, e.node, e.element_id, e.ifc_class].filter(Boolean).join('\n').toLowerCase();
    const props = propertyText(e.properties);
    items.push({
      node: e.node, name: e.name ?? e.node, ifc_class: e.ifc_class ?? null, element_id: e.element_id ?? null,
      base, haystack: props ? `${base}\n${props}` : base,
    });
  }
  return { root, items, byNode: new Map(items.map((it) => [it.node, it])) };
}

/** Add the property values of entries[from..to) (loaded since the index was built) to the search. */
export function indexProperties(index, entries, from, to) {
  for (let i = from; i < to && i < index.items.length; i += 1) {
    const it = index.items[i];
    const props = propertyText(entries[i]?.properties);
    it.haystack = props ? `${it.base}\n${props}` : it.base;
  }
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
