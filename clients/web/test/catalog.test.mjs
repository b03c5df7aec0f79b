import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ElementTable } from '../src/viewer/elements.js';
import { ModelCatalog, containerPath } from '../src/tools/catalog.js';
import { buildIndex, indexProperties, search } from '../src/tools/tree.js';
import { colorize, propertyKeys, CLASS_KEY, STOREY_KEY } from '../src/tools/colorby.js';

/** A tiled model's element table of n elements, property chunks of 1024 rows served from memory. */
function table(n) {
  const classes = ['IfcWall', 'IfcDoor', 'IfcSlab'];
  const containers = ['Site / Building / Level 0', 'Site / Building / Level 1'];
  const json = {
    version: 1, count: n, classes, containers,
    columns: {
      globalId: Array.from({ length: n }, (_, i) => `G${i}`),
      name: Array.from({ length: n }, (_, i) => `Element ${i}`),
      class: Array.from({ length: n }, (_, i) => i % 3),
      container: Array.from({ length: n }, (_, i) => (i < n / 2 ? 0 : 1)),
      triangles: Array.from({ length: n }, () => 12),
    },
  };
  const fetched = [];
  const fetchJson = async (url) => {
    const c = Number(/props\/(\d{4})\.json$/.exec(url)[1]);
    fetched.push(c);
    const start = c * 1024;
    const rows = [];
    for (let i = start; i < Math.min(n, start + 1024); i += 1) rows.push({ Pset_Common: { FireRating: i === 17001 ? 'EI120' : i % 2 ? 'EI30' : 'EI60' } });
    return { start, count: rows.length, rows };
  };
  const t = new ElementTable(json, { chunkSize: 1024, chunkUrl: (c) => `http://x/props/${String(c).padStart(4, '0')}.json`, fetchJson });
  return { t, fetched };
}

test('a tiled catalog has summaries at once and property sets chunk by chunk', async () => {
  const { t, fetched } = table(20000);
  const model = { tiled: { elements: t } };
  const cat = ModelCatalog.of(model);
  assert.equal(ModelCatalog.of(model), cat, 'one catalog per element table');
  assert.equal(cat.count, 20000);
  const e = cat.entries();
  assert.deepEqual(e[5], { node: 'Element 5', name: 'Element 5', element_id: 'G5', ifc_class: 'IfcSlab', path: ['Site', 'Building', 'Level 0'], properties: null });
  assert.equal(cat.complete, false);
  const seen = [];
  await cat.loadProperties((from, to) => seen.push([from, to]));
  assert.equal(cat.complete, true);
  assert.equal(seen.length, 20);
  assert.deepEqual(seen.at(-1), [19456, 20000]);
  assert.deepEqual(fetched, [...Array(20).keys()]);
  assert.equal(e[17001].properties.Pset_Common.FireRating, 'EI120');
  // A second load shares the first: nothing is fetched again.
  await cat.loadProperties();
  assert.equal(fetched.length, 20);
});

test('tree search finds a property value once its chunk is indexed; colour by reads the catalog', async () => {
  const { t } = table(20000);
  const cat = ModelCatalog.of({ tiled: { elements: t } });
  const index = buildIndex(cat.entries());
  assert.equal(index.root.count, 20000);
  assert.equal(index.root.children.get('Site').children.get('Building').children.get('Level 1').count, 10000);
  assert.equal(search(index, 'ei120').total, 0, 'not loaded yet');
  assert.equal(search(index, 'g17001').total, 1, 'GlobalIds are searchable at once');
  await cat.loadProperties((from, to) => indexProperties(index, cat.entries(), from, to));
  assert.deepEqual(search(index, 'ei120').results.map((r) => r.node), ['Element 17001']);
  assert.equal(search(index, 'ei30', Infinity).results.length, 9999); // odd rows but 17001
  const keys = propertyKeys(cat.entries());
  assert.deepEqual(keys.slice(0, 3), [CLASS_KEY, STOREY_KEY, 'Pset_Common/FireRating']);
  const byStorey = colorize(cat.entries(), STOREY_KEY);
  assert.deepEqual(byStorey.legend.map((r) => [r.value, r.count]), [['Level 0', 10000], ['Level 1', 10000]]);
  const byClass = colorize(cat.entries(), CLASS_KEY);
  assert.equal(byClass.colors.size, 20000);
  assert.equal(byClass.colors.get('Element 0'), byClass.colors.get('Element 3'));
  assert.notEqual(byClass.colors.get('Element 0'), byClass.colors.get('Element 1'));
});

test('container paths split on " / "', () => {
  assert.deepEqual(containerPath('Site / Building / Level 0'), ['Site', 'Building', 'Level 0']);
  assert.deepEqual(containerPath(null), []);
});
