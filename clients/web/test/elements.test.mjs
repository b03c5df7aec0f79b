import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ElementTable, ChunkCache, elementKeys } from '../src/viewer/elements.js';

const json = {
  version: 1, count: 3,
  containers: ['Site / Building / Level 0'],
  classes: ['IfcWall', 'IfcDoor'],
  columns: {
    globalId: ['2O2Fr$t4X7Zf8NOew3FLOH', null, '0KMpiAlnb52RgQuM1CwVfd'],
    name: ['Wall A', 'mesh part', 'Door 1'],
    class: [0, -1, 1],
    container: [0, -1, 0],
    geometryHash: ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)],
    triangles: [12, 300, 96],
  },
};

function fetcher(chunks) {
  const calls = [];
  const fetchJson = async (url) => {
    calls.push(url);
    const m = /props\/(\d{4})\.json$/.exec(url);
    if (!m || !chunks[Number(m[1])]) throw new Error(`404 ${url}`);
    return chunks[Number(m[1])];
  };
  return { calls, fetchJson };
}

test('node ids: a unique name, else the GlobalId, else #row; never shared', () => {
  assert.deepEqual(elementKeys(['Wall', 'Door', 'Door', '', null, 'G1'], ['G1', 'G2', null, 'G4', null, 'G6'], 6),
    ['Wall', 'G2', '#2', 'G4', '#4', 'G1']);
});

test('rows resolve class and container indices; keys map back to rows', () => {
  const t = new ElementTable(json);
  assert.equal(t.count, 3);
  assert.deepEqual(t.row(0), {
    index: 0, key: 'Wall A', element_id: '2O2Fr$t4X7Zf8NOew3FLOH', name: 'Wall A',
    ifc_class: 'IfcWall', container: 'Site / Building / Level 0', geometry_hash: 'a'.repeat(64), triangles: 12,
  });
  assert.equal(t.row(1).ifc_class, null);
  assert.equal(t.row(1).container, null);
  assert.equal(t.row(1).key, 'mesh part');
  assert.equal(t.indexOf('mesh part'), 1);
  assert.equal(t.indexOf('Door 1'), 2);
  assert.equal(t.indexOf('0KMpiAlnb52RgQuM1CwVfd'), -1); // GlobalIds are element_id, not node ids
  assert.equal(t.indexOf('nope'), -1);
  assert.equal(t.row(3), null);
  assert.equal(t.row(-1), null);
});

test('a table whose columns disagree with its count is refused', () => {
  assert.throws(() => new ElementTable({ count: 2, columns: { name: ['one'] } }), /expected 2 rows/);
  assert.throws(() => new ElementTable({ columns: {} }), /not an element table/);
});

test('bounds come from the float32 side file, 6 per element', () => {
  const bounds = new Float32Array([0, 0, 0, 1, 1, 1, -1, -2, -3, 4, 5, 6, 9, 9, 9, 10, 10, 10]);
  const t = new ElementTable(json, { bounds });
  assert.deepEqual(t.box(1), [-1, -2, -3, 4, 5, 6]);
  assert.equal(new ElementTable(json, { bounds: new Float32Array(6) }).box(0), null); // too short
});

test('properties load per chunk on demand, once per chunk', async () => {
  const chunks = {
    0: { start: 0, count: 2, rows: [{ Pset_WallCommon: { IsExternal: true } }, {}] },
    1: { start: 2, count: 1, rows: [{ Pset_DoorCommon: { FireRating: 'EI30' } }] },
  };
  const { calls, fetchJson } = fetcher(chunks);
  const t = new ElementTable(json, { chunkSize: 2, chunkUrl: (n) => `/m/props/${String(n).padStart(4, '0')}.json`, fetchJson });
  assert.equal(t.cachedProperties(0), undefined);
  const [a, b] = await Promise.all([t.properties(0), t.properties(1)]);
  assert.deepEqual(a, { Pset_WallCommon: { IsExternal: true } });
  assert.deepEqual(b, {});
  assert.deepEqual(calls, ['/m/props/0000.json']); // one fetch for both rows of chunk 0
  assert.deepEqual(await t.properties(2), { Pset_DoorCommon: { FireRating: 'EI30' } });
  assert.deepEqual(calls, ['/m/props/0000.json', '/m/props/0001.json']);
  assert.deepEqual(t.cachedProperties(0), { Pset_WallCommon: { IsExternal: true } });
  assert.equal(await t.properties(9), null);
});

test('a failed chunk fetch is retried on the next request', async () => {
  let fail = true;
  const calls = [];
  const t = new ElementTable(json, {
    chunkSize: 4, chunkUrl: (n) => `c${n}`,
    fetchJson: async (u) => {
      calls.push(u);
      if (fail) throw new Error('offline');
      return { start: 0, rows: [{ P: { x: 1 } }] };
    },
  });
  await assert.rejects(t.properties(0), /offline/);
  fail = false;
  assert.deepEqual(await t.properties(0), { P: { x: 1 } });
  assert.deepEqual(calls, ['c0', 'c0']);
});

test('ElementTable.load resolves files against the manifest URL', async () => {
  const seen = [];
  const manifest = { elements: { file: 'elements.json', bounds: 'elements.bin', props: 'props/{chunk}.json', chunk_size: 1024, count: 3 } };
  const t = await ElementTable.load(manifest, '/api/versions/v1/files/manifest.json',
    async (u) => { seen.push(u); return u.endsWith('elements.json') ? json : { start: 0, rows: [{ A: { b: 2 } }] }; },
    async (u) => { seen.push(u); return new Float32Array(18).buffer; }, 'http://h/');
  assert.deepEqual(await t.properties(0), { A: { b: 2 } });
  assert.deepEqual(seen.slice(0, 2).sort(), [ // table and bounds are fetched together
    'http://h/api/versions/v1/files/elements.bin', 'http://h/api/versions/v1/files/elements.json',
  ]);
  assert.equal(seen[2], 'http://h/api/versions/v1/files/props/0000.json');
  assert.deepEqual(t.box(2), [0, 0, 0, 0, 0, 0]);
  await assert.rejects(ElementTable.load({}, '/m.json', async () => json), /no element table/);
});

test('the chunk cache evicts the least recently used chunk', async () => {
  const c = new ChunkCache(2);
  const load = (k) => `v${k}`;
  await c.get(0, load);
  await c.get(1, load);
  await c.get(0, load); // 0 is now the most recent
  await c.get(2, load); // evicts 1
  assert.ok(c.has(0) && c.has(2) && !c.has(1));
  assert.equal(c.fetches, 3);
  assert.equal(c.size, 2);
});

test('version 2 table: gzip JSON, millimetre bounds, deduplicated property sets', async () => {
  const { gzipSync } = await import('node:zlib');
  const { parseJsonBytes, boundsFromColumns, chunkRow } = await import('../src/viewer/elements.js');
  const table = {
    version: 2, count: 2, classes: ['IfcWall'], containers: [],
    columns: { globalId: ['g0', 'g1'], name: ['a', 'b'], class: [0, 0], container: [-1, -1], triangles: [12, 12] },
    bounds: { origin: [10, 0, -1], unit: 0.001, min: [[0, 1000], [0, 0], [0, 500]], size: [[1000, 2000], [100, 100], [3000, 10]] },
  };
  const chunk = { start: 0, count: 2, sets: [['Pset_WallCommon', { IsExternal: true }], ['Q', { L: 2 }]], rows: [[0], [0, 1]] };
  const files = { 'elements.json.gz': gzipSync(JSON.stringify(table)), 'props/0000.json.gz': gzipSync(JSON.stringify(chunk)) };
  const fetchBuffer = async (u) => { const b = files[new URL(u).pathname.slice(3)]; if (!b) throw new Error(u); return new Uint8Array(b); };
  const manifest = { elements: { file: 'elements.json.gz', encoding: 'gzip', props: 'props/{chunk}.json.gz', chunk_size: 1024, count: 2 } };
  const t = await ElementTable.load(manifest, 'http://h/m/manifest.json', async () => { throw new Error('no plain JSON'); }, fetchBuffer);
  assert.equal(t.row(1).ifc_class, 'IfcWall');
  const box = t.box(1);
  assert.ok(Math.abs(box[0] - 11) < 1e-5 && Math.abs(box[3] - 13) < 1e-5 && Math.abs(box[5] + 0.49) < 1e-5);
  assert.deepEqual(await t.properties(1), { Pset_WallCommon: { IsExternal: true }, Q: { L: 2 } });
  const { rows } = await t.chunkRows(0); // the catalog's property search reads whole chunks
  assert.deepEqual(rows, [{ Pset_WallCommon: { IsExternal: true } }, { Pset_WallCommon: { IsExternal: true }, Q: { L: 2 } }]);
  assert.deepEqual(chunkRow({ rows: [{ A: 1 }] }, 0), { A: 1 }); // version 1 rows
  assert.deepEqual(await parseJsonBytes(new TextEncoder().encode('{"a":1}')), { a: 1 });
  assert.equal(boundsFromColumns({ min: [[0]], size: [[1]] }, 1), null);
});
