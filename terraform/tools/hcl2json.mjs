// Converts Terraform (.tf) files to JSON with HashiCorp's HCL parser (@cdktf/hcl2json, a wasm build of hcl/v2).
// Usage: node tools/hcl2json.mjs FILE...
// Prints one JSON object to stdout: { "<file as given>": { "ok": true, "json": {...} }
//                                       | { "ok": false, "error": "<parser message>" } }.
// Exit status 0 when every file parsed, 1 when at least one did not, 2 on a usage error.
import { readFile } from "node:fs/promises";
import { parse } from "@cdktf/hcl2json";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node tools/hcl2json.mjs FILE...");
  process.exit(2);
}

const result = {};
let failed = false;
for (const file of files) {
  try {
    const text = await readFile(file, "utf8");
    result[file] = { ok: true, json: await parse(file, text) };
  } catch (e) {
    failed = true;
    result[file] = { ok: false, error: String(e && e.message ? e.message : e) };
  }
}
process.stdout.write(JSON.stringify(result));
process.exit(failed ? 1 : 0);
