#!/usr/bin/python3
"""Check the numpy reference (forward.py, gguf_read.py) against every fixture.

    check_fixtures.py [--fixtures DIR] [-v]

DIR defaults to $DEEPC_FIXTURES, else /work/shared/fixtures (holding models/ and
quant/). Prints one line per model (and one for quant/quant-ref.gguf), exits
  0  all checks passed,
  1  a check failed,
  77 fixtures not found (meson's "skipped").

Criteria:
- F32 models: max|diff| <= 1e-5 vs NAME.logits.f32 and NAME.step.logits.f32, argmax
  identical at every position; deepseek2 also: naive and absorbed MLA agree to 1e-10.
- quantized models (run with the peer's activation rounding, --round-acts): the
  README's end-to-end rule: median over positions of the per-position max|diff|
  <= 3e-2, argmax agreement >= 90 %, and the first 3 positions within 1e-5.
- quant/quant-ref.gguf: every `T` dequantizes bit-identically (as f32) to `T.deq`,
  and the Q8_0 / Q8_K activation rounding reproduces `act_src.*.cpu.deq`.
"""
import os
import sys
import time

try:
    import numpy as np
except ImportError:  # pyenv python without numpy: retry with Debian's python3
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

sys.dont_write_bytecode = True  # keep tests/reference free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forward as fw  # noqa: E402
from gguf_read import GGUFFile  # noqa: E402

F32_TOL = 1e-5
MLA_TOL = 1e-10
Q_MEDIAN_TOL = 3e-2
Q_ARGMAX_MIN = 0.90
Q_FIRST_N = 3


def is_f32_model(g):
    return all(t.type_name == "F32" for t in g.tensors.values())


def check_model(path, verbose=False):
    name = os.path.basename(path)[:-len(".gguf")]
    base = path[:-len(".gguf")]
    g = GGUFFile(path)
    tokens = fw.read_tokens("@" + base + ".tokens")
    nv = fw.n_vocab_of(g)
    f32 = is_f32_model(g)
    t0 = time.time()
    logits = fw.run(g, tokens, round_acts=not f32)[:, :nv]
    dt = time.time() - t0
    ok = True
    parts = []
    for kind, ref in (("batch", base + ".logits.f32"), ("step", base + ".step.logits.f32")):
        if not os.path.exists(ref):
            parts.append("%s: missing" % kind)
            ok = False
            continue
        r = fw.compare(logits, ref, nv)
        if f32:
            good = r["max_diff"] <= F32_TOL and r["argmax_agree"] == 1.0
            parts.append("%s max|diff| %.2e argmax %.0f%%" % (kind, r["max_diff"], 100 * r["argmax_agree"]))
        else:
            first = r["per_pos"][:Q_FIRST_N].max()
            good = (r["median_pos_max"] <= Q_MEDIAN_TOL and r["argmax_agree"] >= Q_ARGMAX_MIN
                    and first <= F32_TOL)
            parts.append("%s max %.2e median %.2e first%d %.1e pos<%d within 1e-5 argmax %.0f%%" % (
                kind, r["max_diff"], r["median_pos_max"], Q_FIRST_N, first,
                r["first_pos_over_1e-5"] if r["first_pos_over_1e-5"] >= 0 else len(tokens),
                100 * r["argmax_agree"]))
        if not good:
            parts[-1] += " FAIL"
            ok = False
    if g.kv.get("general.architecture") == "deepseek2" and f32:
        a = fw.run(g, tokens, mla="naive")[:, :nv]
        b = fw.run(g, tokens, mla="absorbed")[:, :nv]
        d = float(np.abs(a - b).max())
        parts.append("naive~absorbed %.1e" % d)
        if d > MLA_TOL:
            parts[-1] += " FAIL"
            ok = False
    print("%-6s %-16s %s  max|logit| %.2f  (%.1fs)%s" % (
        "ok" if ok else "FAIL", name, "; ".join(parts), float(np.abs(logits).max()), dt,
        "" if f32 else "  [quantized, --round-acts]"))
    return ok


def check_quant(path):
    g = GGUFFile(path)
    bad = []
    n = 0
    for name in g.tensor_order:
        if name.endswith(".deq") or name + ".deq" not in g.tensors:
            continue
        a = g.get(name).astype(np.float32)
        b = g.get(name + ".deq").astype(np.float32)
        n += 1
        if not np.array_equal(a.view(np.uint32), b.view(np.uint32)):
            bad.append(name)
    x = g.get("act_src")
    for fn, ref in ((fw.round_q8_0, "act_src.q8_0.cpu.deq"), (fw.round_q8_k, "act_src.q8_k.cpu.deq")):
        if ref in g.tensors:
            n += 1
            a = fn(x).astype(np.float32)
            if not np.array_equal(a.view(np.uint32), g.get(ref).astype(np.float32).view(np.uint32)):
                bad.append("round->" + ref)
    ok = not bad
    print("%-6s %-16s %d dequant/activation-rounding checks bit-identical%s" % (
        "ok" if ok else "FAIL", "quant-ref", n - len(bad), "" if ok else "; FAILED: " + ", ".join(bad)))
    return ok


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixtures", default=os.environ.get("DEEPC_FIXTURES", "/work/shared/fixtures"))
    a = ap.parse_args(argv)
    mdir = os.path.join(a.fixtures, "models")
    if not os.path.isdir(mdir):
        print("skip: no fixtures at %s" % mdir)
        return 77
    models = sorted(os.path.join(mdir, f) for f in os.listdir(mdir) if f.endswith(".gguf"))
    ok = True
    for p in models:
        try:
            ok &= check_model(p)
        except Exception as e:  # report and continue
            print("FAIL   %-16s %s: %s" % (os.path.basename(p)[:-5], type(e).__name__, e))
            ok = False
    q = os.path.join(a.fixtures, "quant", "quant-ref.gguf")
    if os.path.exists(q):
        ok &= check_quant(q)
    print("all passed" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
