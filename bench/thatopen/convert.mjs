// That Open Fragments: IFC -> .frag with its IfcImporter (web-ifc), as its docs show.
// node convert.mjs IN.ifc OUT.frag   (used by bench/scale_bench.py)
import { readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as FRAGS from "@thatopen/fragments";

const here = dirname(fileURLToPath(import.meta.url));
const [input, output] = process.argv.slice(2);
const importer = new FRAGS.IfcImporter();
importer.wasm = { absolute: true, path: resolve(here, "node_modules/web-ifc") + "/" };
const bytes = new Uint8Array(await readFile(input));
const t0 = performance.now();
const frag = await importer.process({ bytes, raw: false });
await writeFile(output, frag);
process.stderr.write(`${input}: ${frag.length} B in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
