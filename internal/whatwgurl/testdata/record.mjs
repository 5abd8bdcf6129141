// Records how Node's URL parses each input of inputs.json, into node.json.
// Run it from this folder with the Node of the machine:
//   node record.mjs > node.json
// The Go test compares whatwgurl.Parse with what this recorded; it does not
// run Node itself.
import { readFileSync } from "node:fs";

const inputs = JSON.parse(readFileSync(new URL("./inputs.json", import.meta.url), "utf8"));
const parts = ["href", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash", "origin"];
const out = inputs.map(([input, base]) => {
  const rec = { input };
  if (base !== undefined) rec.base = base;
  try {
    const u = base === undefined ? new URL(input) : new URL(input, base);
    for (const p of parts) rec[p] = u[p];
  } catch (e) {
    rec.error = e.code ?? e.message;
  }
  return rec;
});
process.stdout.write(JSON.stringify({ node: process.version, cases: out }, null, 1) + "\n");
