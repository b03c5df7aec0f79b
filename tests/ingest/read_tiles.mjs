// Independent reader for tiles: glTF-Transform (NodeIO, all its extensions, the meshoptimizer
// decoder) reads each GLB given on the command line and prints one JSON line per file with
// what it found. Used by tests/ingest/test_tiles.py.
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(here, "../../clients/web/package.json"));
const { NodeIO } = require("@gltf-transform/core");
const { ALL_EXTENSIONS } = require("@gltf-transform/extensions");
const { MeshoptDecoder } = require("meshoptimizer");

await MeshoptDecoder.ready;
const io = new NodeIO().registerExtensions(ALL_EXTENSIONS).registerDependencies({
  "meshopt.decoder": MeshoptDecoder,
});
for (const path of process.argv.slice(2)) {
  const doc = await io.read(path);
  const root = doc.getRoot();
  let vertices = 0, indices = 0, primitives = 0, featureAttrs = 0, instances = 0;
  const fidMax = [];
  for (const mesh of root.listMeshes()) {
    for (const prim of mesh.listPrimitives()) {
      primitives += 1;
      const pos = prim.getAttribute("POSITION");
      vertices += pos.getCount();
      indices += prim.getIndices() ? prim.getIndices().getCount() : 0;
      const fid = prim.getAttribute("_FEATURE_ID_0");
      if (fid) {
        featureAttrs += 1;
        let m = 0;
        const a = fid.getArray();
        for (let i = 0; i < a.length; i++) m = Math.max(m, a[i]);
        fidMax.push(m);
      }
    }
  }
  for (const node of root.listNodes()) {
    const inst = node.getExtension("EXT_mesh_gpu_instancing");
    if (inst) instances += inst.getAttribute("TRANSLATION").getCount();
  }
  process.stdout.write(JSON.stringify({
    path, meshes: root.listMeshes().length, primitives, vertices, indices, featureAttrs,
    fidMax: fidMax.length ? Math.max(...fidMax) : -1, instances,
    extensionsUsed: root.listExtensionsUsed().map((e) => e.extensionName),
  }) + "\n");
}
