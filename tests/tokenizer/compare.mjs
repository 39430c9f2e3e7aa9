// compare.mjs - compare deepc's ids with the reference's, string by string.
//
//     node compare.mjs NAME TEXTS.json REF.json DEEPC.json [--report-only]
//
// Prints "NAME: K/N strings equal (C characters)" and, for the first few
// strings that differ, where they part. Exit status 1 when any string
// differs, unless --report-only (used for divergent.json, whose strings the
// reference implementations themselves disagree on).
import { readFileSync } from "node:fs";

const [name, textsPath, refPath, deepcPath, flag] = process.argv.slice(2);
const texts = JSON.parse(readFileSync(textsPath, "utf8"));
const ref = JSON.parse(readFileSync(refPath, "utf8"));
const got = JSON.parse(readFileSync(deepcPath, "utf8"));
const reportOnly = flag === "--report-only";

if (ref.length !== texts.length || got.length !== texts.length) {
  console.log(`${name}: ${texts.length} strings, ${ref.length} reference results, ${got.length} deepc results`);
  process.exit(1);
}
let equal = 0, chars = 0, shown = 0;
for (let i = 0; i < texts.length; i++) {
  chars += [...texts[i]].length;
  const a = ref[i], b = got[i];
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k++;
  if (k === a.length && k === b.length) {
    equal++;
    continue;
  }
  if (shown++ < 5) {
    const snippet = JSON.stringify(texts[i].length > 80 ? texts[i].slice(0, 80) + "..." : texts[i]);
    console.log(`  ${name} #${i} ${snippet}: first difference at token ${k}`);
    console.log(`    reference ${JSON.stringify(a.slice(Math.max(0, k - 2), k + 6))}`);
    console.log(`    deepc     ${JSON.stringify(b.slice(Math.max(0, k - 2), k + 6))}`);
  }
}
const pct = ((100 * equal) / Math.max(1, texts.length)).toFixed(2);
console.log(`${name}: ${equal}/${texts.length} strings equal (${pct}%, ${chars} characters)` +
            (reportOnly ? " [report only]" : ""));
process.exit(equal === texts.length || reportOnly ? 0 : 1);
