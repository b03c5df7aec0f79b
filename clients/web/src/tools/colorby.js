// Colour by property: every part coloured by the value of one property (IFC class, or any
// property-set value), with a legend. Part of one's own view (tools/viewstate.js colours).

/** Distinct, saturated hues (legend order); values past the palette reuse it. */
export const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6',
  '#bcf60c', '#fabebe', '#008080', '#e6beff', '#9a6324', '#fffac8', '#800000', '#aaffc3', '#808000'];

export const CLASS_KEY = 'ifc_class';
/** The storey (the last step of the element's spatial path). */
export const STOREY_KEY = 'storey';

/** Whether colouring by `key` needs the property sets (class and storey are in the summary). */
export function needsProperties(key) {
  return key !== CLASS_KEY && key !== STOREY_KEY;
}

/** The property keys found on parts: 'ifc_class' and 'storey' first (storey when any part has a
 * spatial path), then 'Group/Name' by frequency (parts whose properties are not loaded yet have
 * `properties: null` and add none). */
export function propertyKeys(infos, limit = 200) {
  const counts = new Map();
  for (const info of infos) {
    for (const [group, values] of Object.entries(info?.properties ?? {})) {
      if (!values || typeof values !== 'object') continue;
      for (const [k, v] of Object.entries(values)) {
        if (v === null || typeof v === 'object') continue;
        const key = `${group}/${k}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
  }
  const keys = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k);
  const storey = infos.some((info) => info?.path?.length) ? [STOREY_KEY] : [];
  return [CLASS_KEY, ...storey, ...keys.slice(0, limit)];
}

/** A part's value for a key (a string for the legend), or null. */
export function valueOf(info, key) {
  if (!info) return null;
  if (key === CLASS_KEY) return info.ifc_class ?? null;
  if (key === STOREY_KEY) return info.path?.length ? info.path[info.path.length - 1] : null;
  const i = key.indexOf('/');
  const v = info.properties?.[key.slice(0, i)]?.[key.slice(i + 1)];
  return v === null || v === undefined || typeof v === 'object' ? null : String(v);
}

/** node -> colour and the legend [{value, color, count}] (most common value first). */
export function colorize(infos, key) {
  const byValue = new Map();
  for (const info of infos) {
    const v = valueOf(info, key);
    if (v === null) continue;
    if (!byValue.has(v)) byValue.set(v, []);
    byValue.get(v).push(info.node);
  }
  const legend = [...byValue.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]))
    .map(([value, nodes], i) => ({ value, color: PALETTE[i % PALETTE.length], count: nodes.length, nodes }));
  const colors = new Map();
  for (const row of legend) for (const n of row.nodes) colors.set(n, row.color);
  return { colors, legend: legend.map(({ value, color, count }) => ({ value, color, count })) };
}
