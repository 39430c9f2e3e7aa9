#!/usr/bin/python3
"""deepc against the numpy reference on random models made by deepc-make-model.

    check_generated.py [--make-model PATH] [--eval PATH] [--keep DIR] [-v]

The programs default to $DEEPC_MAKE_MODEL and $DEEPC_EVAL (meson sets both).
For every variant below: generate the model (vocabulary 512, seeded), run
deepc-eval on a fixed list of 32 token ids (--kv f32 --all-logits, one batch),
with --mla naive and --mla absorbed for deepseek2, and forward.py on the same
file (group rule as deepc's lib/model/hparams.c: `max` for softmax-gated files
with groups, `top2` for sigmoid). Exits 0 all passed, 1 a check failed, 77
numpy or a program missing (meson: skipped).

Criteria:
- F32 weights: max|diff| / max|ref| <= 1e-4 and the same argmax at every
  position, for each MLA form; naive vs absorbed within 1e-5 of max|logit|.
- quantized weights (reference with --round-acts, deepc's natural MLA form):
  fixtures/README.md's end-to-end rule: median over positions of the
  per-position max|diff| <= 3e-2, argmax agreement >= 90 %, and the first 3
  positions within 1e-5.
- sensitivity: each variant names details it exercises (forward.py's
  --mistake list, or the other group rule); the reference with that detail
  wrong must move the logits by more than 100x the F32 tolerance, so the
  variant really tests it.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
except ImportError:  # pyenv python without numpy: retry with Debian's python3
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("skip: numpy not available")
    sys.exit(77)

sys.dont_write_bytecode = True  # keep tests/reference free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forward as fw  # noqa: E402
from gguf_read import GGUFFile  # noqa: E402

F32_REL_TOL = 1e-4
MLA_REL_TOL = 1e-5
Q_MEDIAN_TOL = 3e-2
Q_ARGMAX_MIN = 0.90
Q_FIRST_N = 3
Q_FIRST_TOL = 1e-5
SENSITIVE = 100 * F32_REL_TOL
N_VOCAB = 512

# The router std is 0.2 (not the 0.02 of the other weights) for all deepseek2
# variants: fewer near-ties between experts, so float noise cannot flip an
# expert choice between deepc (f32) and the reference (f64).
DS = ["--arch", "deepseek2", "--router-std", "0.2"]

# name, deepc-make-model arguments, quantized, details the variant must be sensitive to
VARIANTS = [
    ("v2lite-softmax-greedy", DS + ["--preset", "tiny-v2lite"], False,
     ["swap-gating", "swap-rope"]),
    ("v2-softmax-groups-max", DS + ["--preset", "tiny-v2"], False,
     ["group-rule", "no-groups"]),
    ("v3-sigmoid-groups-top2", DS + ["--preset", "tiny-v3"], False,
     ["group-rule", "no-groups", "no-probs-bias", "no-renorm"]),
    ("v3-sigmoid-no-norm-no-qlora", DS + ["--preset", "tiny-v3", "--norm-topk", "0", "--q-lora", "0",
                                          "--seed", "7"], False,
     ["no-groups", "no-probs-bias", "no-routed-scale"]),
    ("v3-legacy-kv_b", DS + ["--preset", "tiny-v3", "--legacy", "--seed", "11"], False,
     ["no-renorm", "swap-rope"]),
    ("v2lite-legacy-kv_b-shared0", DS + ["--preset", "tiny-v2lite", "--legacy", "--shared", "0",
                                         "--dense-layers", "0", "--seed", "13"], False,
     ["swap-gating", "swap-rope"]),
    ("llama-rope-freqs", ["--arch", "llama", "--qk-std", "0.1"], False, ["no-rope-freqs", "swap-rope"]),
    ("qwen2-tied-bias", ["--arch", "qwen2", "--tied"], False, ["no-qkv-bias", "swap-rope"]),
    ("v3-q8_0", DS + ["--preset", "tiny-v3", "--type", "Q8_0"], True, []),
    ("v3-q4_k_m", DS + ["--preset", "tiny-v3", "--mix", "q4_k_m"], True, []),
    ("qwen2-q4_k_m", ["--arch", "qwen2", "--mix", "q4_k_m"], True, []),
]


def tokens_for(n_vocab, n=32):
    """bos, then ids spread over the whole vocabulary (bytes, merges, [PAD], control)."""
    return [n_vocab - 2] + [(i * 97 + 13) % n_vocab for i in range(1, n)]


def group_rule_of(g):
    arch = g.kv["general.architecture"]
    gating = g.kv.get(arch + ".expert_gating_func", 1) or 1
    return "top2" if gating == 2 else "max"


def run_eval(prog, model, tokens, mla, out):
    cmd = [prog, "-m", model, "--tokens", ",".join(map(str, tokens)), "--all-logits", "--kv", "f32",
           "--out", out]
    if mla:
        cmd += ["--mla", mla]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stdout.strip()))
    return np.fromfile(out, dtype="<f4").astype(np.float64).reshape(len(tokens), -1)


def compare(a, ref):
    d = np.abs(a - ref)
    per_pos = d.max(axis=1)
    return {
        "rel": float(d.max() / np.abs(ref).max()),
        "max": float(d.max()),
        "argmax": float(np.mean(a.argmax(1) == ref.argmax(1))),
        "median_pos": float(np.median(per_pos)),
        "first": float(per_pos[:Q_FIRST_N].max()),
    }


def sensitivity(g, tokens, rule, ref, details):
    """Relative change of the reference logits when each detail is done wrong."""
    out = {}
    for d in details:
        if d == "group-rule":
            other = "max" if rule == "top2" else "top2"
            alt = fw.run(g, tokens, group_rule=other)
        else:
            alt = fw.run(g, tokens, group_rule=rule, mistakes=[d])
        out[d] = float(np.abs(alt[:, :ref.shape[1]] - ref).max() / np.abs(ref).max())
    return out


def check_variant(progs, tmp, name, args, quantized, details):
    path = os.path.join(tmp, name + ".gguf")
    r = subprocess.run([progs["make"], *args, "-o", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    if r.returncode != 0:
        raise RuntimeError("deepc-make-model %s: %s" % (" ".join(args), r.stdout.strip()))
    g = GGUFFile(path)
    tokens = tokens_for(N_VOCAB)
    ds = g.kv["general.architecture"] == "deepseek2"
    rule = group_rule_of(g) if ds else "top2"
    ref = fw.run(g, tokens, group_rule=rule, round_acts=quantized)[:, :N_VOCAB]
    ok, parts = True, []
    forms = (["absorbed"] if quantized else ["naive", "absorbed"]) if ds else [None]
    got = {}
    for mla in forms:
        got[mla] = run_eval(progs["eval"], path, tokens, mla, os.path.join(tmp, "%s.%s.f32" % (name, mla)))
        c = compare(got[mla], ref)
        if quantized:
            good = (c["median_pos"] <= Q_MEDIAN_TOL and c["argmax"] >= Q_ARGMAX_MIN and c["first"] <= Q_FIRST_TOL)
            parts.append("%s: max %.1e median %.1e first%d %.1e argmax %.0f%%" % (
                mla or "dense", c["max"], c["median_pos"], Q_FIRST_N, c["first"], 100 * c["argmax"]))
        else:
            good = c["rel"] <= F32_REL_TOL and c["argmax"] == 1.0
            parts.append("%s: rel %.1e argmax %.0f%%" % (mla or "dense", c["rel"], 100 * c["argmax"]))
        if not good:
            parts[-1] += " FAIL"
            ok = False
    if ds and not quantized:
        d = float(np.abs(got["naive"] - got["absorbed"]).max() / np.abs(got["absorbed"]).max())
        parts.append("naive~absorbed %.1e" % d)
        if d > MLA_REL_TOL:
            parts[-1] += " FAIL"
            ok = False
    for d, v in sensitivity(g, tokens, rule, ref, details).items():
        parts.append("%s moves %.1e" % (d, v))
        if v <= SENSITIVE:
            parts[-1] += " (INSENSITIVE)"
            ok = False
    return ok, "; ".join(parts), float(np.abs(ref).max())


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--make-model", default=os.environ.get("DEEPC_MAKE_MODEL"))
    ap.add_argument("--eval", default=os.environ.get("DEEPC_EVAL"))
    ap.add_argument("--keep", help="write the models here and keep them")
    a = ap.parse_args(argv)
    progs = {"make": a.make_model, "eval": a.eval}
    for k, p in progs.items():
        if not p or not os.access(p, os.X_OK):
            print("skip: %s program not found (set DEEPC_MAKE_MODEL / DEEPC_EVAL)" % k)
            return 77
    tmp = a.keep or tempfile.mkdtemp(prefix="deepc-gen-")
    os.makedirs(tmp, exist_ok=True)
    all_ok = True
    t_all = time.time()
    try:
        for name, args, quantized, details in VARIANTS:
            t0 = time.time()
            try:
                ok, msg, mx = check_variant(progs, tmp, name, args, quantized, details)
            except Exception as e:  # report and continue
                ok, msg, mx = False, "%s: %s" % (type(e).__name__, e), 0.0
            all_ok &= ok
            print("%-6s %-28s %s  max|logit| %.2f  (%.1fs)%s" % (
                "ok" if ok else "FAIL", name, msg, mx, time.time() - t0,
                "  [quantized, --round-acts]" if quantized else ""), flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%s (%.1fs)" % ("all passed" if all_ok else "SOME CHECKS FAILED", time.time() - t_all))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
