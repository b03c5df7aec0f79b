// Print the Khronos glTF-Validator report of each GLB given on the command line, as JSON
// (one report per line). Used by tests/ingest; run from the repository root or anywhere.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(here, "../../clients/web/package.json"));
const validator = require("gltf-validator");

for (const path of process.argv.slice(2)) {
  const data = new Uint8Array(await readFile(path));
  const report = await validator.validateBytes(data, {
    uri: path,
    maxIssues: 200,
    externalResourceFunction: () => Promise.reject(new Error("external resources are not allowed")),
  });
  process.stdout.write(JSON.stringify(report) + "\n");
}
