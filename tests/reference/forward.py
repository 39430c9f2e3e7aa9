#!/usr/bin/python3
"""Independent float64 reference forward pass for deepc (numpy only).

Architectures: deepseek2 (DeepSeek-V2 / V2-Lite / V3 / R1, MLA + MoE; split
attn_k_b/attn_v_b or legacy attn_kv_b), llama and qwen2 (dense R1 distills).
Written from shared/spec/deepseek-arch.md and shared/fixtures/README.md, not from
any C code.

CLI:
    forward.py MODEL.gguf [--tokens 1,2,3 | --tokens @FILE] [--mla auto|naive|absorbed]
               [--group-rule top2|max] [--round-acts] [--mistake NAME ...]
               [--out FILE] [--compare FILE ...]

--out writes float32 little-endian logits [n_tokens x n_vocab], row-major (the
fixtures' *.logits.f32 format). Without --tokens, MODEL's sibling NAME.tokens is
used if it exists.

Python API:  logits = run(path, tokens, mla="auto", group_rule="top2",
                          round_acts=False, mistakes=())   -> float64 [T, V]
"""
import os
import sys

try:
    import numpy as np
except ImportError:  # pyenv python without numpy: retry with Debian's python3
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

sys.dont_write_bytecode = True  # keep tests/reference free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_read import GGUFFile  # noqa: E402

# Deliberate mistakes, to show the comparison is sensitive (fixtures README table 3).
MISTAKES = {
    "no-groups": "ignore group-limited routing (plain global top-k)",
    "no-probs-bias": "ignore exp_probs_b (selection bias)",
    "no-renorm": "do not renormalise the top-k weights",
    "no-routed-scale": "ignore expert_weights_scale",
    "swap-gating": "softmax <-> sigmoid router",
    "no-m2": "leave the YaRN attention factor m^2 out of the kq scale",
    "no-yarn-ramp": "leave the YaRN frequency correction out: plain base^(-2j/d) angles (m^2 kept)",
    "swap-rope": "NORM (adjacent pairs) <-> NEOX (halves) rope",
    "no-qkv-bias": "drop q/k/v biases (qwen2)",
    "no-rope-freqs": "ignore rope_freqs.weight (llama)",
}


# ---------------------------------------------------------------- activation rounding (peer's CPU backend)

def _f16_round(x):
    return x.astype(np.float32).astype(np.float16).astype(np.float64)


def _bf16_round(x):
    u = np.ascontiguousarray(x.astype(np.float32)).view(np.uint32).astype(np.uint64)
    nan = (u & 0x7fffffff) > 0x7f800000
    r = ((u + (0x7fff + ((u >> 16) & 1))) >> 16) & 0xffff
    r = np.where(nan, (u >> 16) | 64, r).astype(np.uint32)
    return (r << 16).view(np.float32).astype(np.float64)


def _q8_0_parts(x):
    """Q8_0 activation quantization as the x86 CPU backend does it: per 32 values (f32),
    amax, d = amax/127 -> f16, q = rint(x * (127/amax)) (halves to even).
    Returns (q float64 [..., nb, 32], d16 float64 [..., nb], d32 float32 [..., nb])."""
    x32 = x.astype(np.float32)
    sh = x32.shape
    xb = x32.reshape(sh[:-1] + (sh[-1] // 32, 32))
    amax = np.max(np.abs(xb), axis=-1)
    d = amax / np.float32(127.0)
    with np.errstate(divide="ignore"):
        idv = np.where(amax != 0, np.float32(127.0) / np.where(amax != 0, amax, np.float32(1)), np.float32(0))
    idv = idv.astype(np.float32)
    q = np.rint(xb * idv[..., None]).astype(np.float64) + 0.0  # no -0 (int8 has none)
    d16 = d.astype(np.float16).astype(np.float64)
    return q, d16, d.astype(np.float32)


def round_q8_0(x):
    q, d16, _ = _q8_0_parts(x)
    return (q * d16[..., None]).reshape(x.shape)


def round_q8_k(x):
    """Q8_K: per 256 values, m = element of largest |x| (sign kept, first wins), s = -127/m (f32),
    q = min(127, rne(s*x)), d = 1/s kept as f32."""
    x32 = x.astype(np.float32)
    sh = x32.shape
    xb = x32.reshape(sh[:-1] + (sh[-1] // 256, 256))
    idx = np.argmax(np.abs(xb), axis=-1)
    m = np.take_along_axis(xb, idx[..., None], axis=-1)[..., 0]
    with np.errstate(divide="ignore"):
        s = np.where(m != 0, np.float32(-127.0) / np.where(m != 0, m, np.float32(1)), np.float32(0)).astype(np.float32)
        d = np.where(s != 0, np.float32(1.0) / np.where(s != 0, s, np.float32(1)), np.float32(0)).astype(np.float32)
    q = np.minimum(127.0, np.rint(xb * s[..., None]).astype(np.float64)) + 0.0
    return (q * d.astype(np.float64)[..., None]).reshape(x.shape)


ACT_FORMAT = {
    "Q4_0": "Q8_0", "Q5_0": "Q8_0", "Q8_0": "Q8_0", "IQ4_NL": "Q8_0",
    "Q4_1": "Q8_1", "Q5_1": "Q8_1",
    "Q2_K": "Q8_K", "Q3_K": "Q8_K", "Q4_K": "Q8_K", "Q5_K": "Q8_K", "Q6_K": "Q8_K", "IQ4_XS": "Q8_K",
    "F16": "F16", "BF16": "BF16", "F32": None,
}


class Weight:
    """A dequantized weight (float64, numpy shape = reversed ne) plus what is needed to emulate the peer."""

    def __init__(self, g, name):
        self.name = name
        self.type = g.tensors[name].type_name
        self.w = g.get(name)
        self.mins = g.block_mins(name)  # Q4_1/Q5_1 only


class Ctx:
    def __init__(self, g, round_acts=False, mistakes=()):
        self.g = g
        self.round_acts = round_acts
        self.mistakes = set(mistakes)
        for m in self.mistakes:
            if m not in MISTAKES:
                raise ValueError("unknown mistake %r (known: %s)" % (m, ", ".join(MISTAKES)))
        self._cache = {}

    def has(self, name):
        return name in self.g.tensors

    def W(self, name):
        if name not in self._cache:
            self._cache[name] = Weight(self.g, name)
        return self._cache[name]

    def t(self, name):
        """Plain float64 array (norms, biases, router)."""
        return self.W(name).w

    def kv(self, key, default=None):
        return self.g.kv.get(key, default)

    def act(self, x, wt):
        """Round activation x (last axis = contraction) the way the peer does before a product with a
        weight of type wt. Returns (rounded x, Q8_1 correction terms or None)."""
        if not self.round_acts:
            return x, None
        fmt = ACT_FORMAT.get(wt.type, None)
        if fmt is None:
            return x, None
        if fmt == "Q8_0":
            return round_q8_0(x), None
        if fmt == "Q8_K":
            return round_q8_k(x), None
        if fmt == "F16":
            return _f16_round(x), None
        if fmt == "BF16":
            return _bf16_round(x), None
        if fmt == "Q8_1":
            q, d16, d32 = _q8_0_parts(x)
            sq = q.sum(axis=-1)
            s16 = (d32 * sq.astype(np.float32)).astype(np.float16).astype(np.float64)
            # peer: sum over blocks of d_w*d_a*sum(qw*qa) + m_w * s16 ; we compute dequant(w).xq which
            # contributes m_w * d16 * sum(q): correction = m_w * (s16 - d16*sum(q)) per block
            return (q * d16[..., None]).reshape(x.shape), (s16 - d16 * sq)
        raise NotImplementedError(fmt)

    def lin(self, x, name, expert=None):
        """y = W x for x [..., in]; W numpy [out, in] (or [E, out, in] with expert index)."""
        wt = self.W(name)
        w = wt.w if expert is None else wt.w[expert]
        xr, corr = self.act(x, wt)
        y = xr @ w.T
        if corr is not None:
            mins = wt.mins if expert is None else wt.mins[expert]
            y = y + corr @ mins.T
        return y

    def lin_heads(self, x, name, transpose=False):
        """Per-head product with a 3-D weight W numpy [H, out, in]: x [T, H, in] -> [T, H, out].
        transpose=True contracts over W's 'out' axis instead (no peer counterpart: never rounded)."""
        wt = self.W(name)
        if transpose:
            return np.einsum("thi,hio->tho", x, wt.w)
        xr, corr = self.act(x, wt)
        y = np.einsum("thi,hoi->tho", xr, wt.w)
        if corr is not None:
            y = y + np.einsum("thb,hob->tho", corr, wt.mins)
        return y


# ---------------------------------------------------------------- building blocks

def rmsnorm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def silu(x):
    return x / (1.0 + np.exp(-x))


def softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def rope(x, pos, theta, mode):
    """x [T, ..., d] (d = 2*len(theta)); theta[j] = angle per position for pair j.
    mode 'norm': pairs (2j, 2j+1); 'neox': pairs (j, j + d/2)."""
    ang = pos[:, None].astype(np.float64) * theta[None, :]  # [T, d/2]
    shape = (x.shape[0],) + (1,) * (x.ndim - 2) + (theta.shape[0],)
    c, s = np.cos(ang).reshape(shape), np.sin(ang).reshape(shape)
    out = np.empty_like(x)
    if mode == "norm":
        a, b = x[..., 0::2], x[..., 1::2]
        out[..., 0::2] = a * c - b * s
        out[..., 1::2] = a * s + b * c
    else:
        h = theta.shape[0]
        a, b = x[..., :h], x[..., h:2 * h]
        out[..., :h] = a * c - b * s
        out[..., h:2 * h] = a * s + b * c
    return out


def yarn_theta(d, base, factor, orig_ctx, beta_fast, beta_slow, ramp=True):
    """Per-pair angle (radians per position) with YaRN frequency correction (spec §2.3)."""
    j = np.arange(d // 2, dtype=np.float64)
    th = base ** (-2.0 * j / d)
    if factor is None or factor <= 1.0:
        return th

    def corr(n):
        return d * np.log(orig_ctx / (2.0 * np.pi * n)) / (2.0 * np.log(base))
    low = max(0.0, np.floor(corr(beta_fast)))
    high = min(d - 1.0, np.ceil(corr(beta_slow)))
    r = np.clip((j - low) / max(0.001, high - low), 0.0, 1.0)
    if not ramp:
        return th  # (mistake) no frequency correction at all
    return th * (1.0 - r) + (th / factor) * r


def causal_attention(scores):
    """scores [H, T, T] (already scaled) -> probabilities with causal mask."""
    T = scores.shape[-1]
    mask = np.triu(np.ones((T, T), dtype=bool), 1)
    s = np.where(mask[None], -np.inf, scores)
    return softmax(s, axis=-1)


def swiglu(c, x, pre, expert=None):
    g = c.lin(x, pre + "ffn_gate" + ("_exps" if expert is not None else "") + ".weight", expert)
    u = c.lin(x, pre + "ffn_up" + ("_exps" if expert is not None else "") + ".weight", expert)
    return c.lin(silu(g) * u, pre + "ffn_down" + ("_exps" if expert is not None else "") + ".weight", expert)


# ---------------------------------------------------------------- deepseek2

def route(c, logits, gating, bias, n_group, n_group_used, n_used, norm_w, scale_w, group_rule):
    """MoE routing for all tokens. logits [T, N] -> (idx [T, k], weights [T, k])."""
    if "swap-gating" in c.mistakes:
        gating = 1 if gating == 2 else 2
    probs = softmax(logits) if gating == 1 else sigmoid(logits)
    sel = probs.copy()
    if bias is not None and "no-probs-bias" not in c.mistakes:
        sel = sel + bias[None, :]
    T, N = sel.shape
    if n_group > 1 and "no-groups" not in c.mistakes:
        gs = sel.reshape(T, n_group, N // n_group)
        if group_rule == "top2":
            srt = np.sort(gs, axis=-1)
            score = srt[..., -1] + srt[..., -2]
        elif group_rule == "max":
            score = gs.max(axis=-1)
        else:
            raise ValueError("group rule %r" % group_rule)
        keep = np.argsort(-score, axis=-1, kind="stable")[:, :n_group_used]
        m = np.ones((T, n_group), dtype=bool)
        np.put_along_axis(m, keep, False, axis=-1)
        gs = np.where(m[..., None], -np.inf, gs)
        sel = gs.reshape(T, N)
    idx = np.argsort(-sel, axis=-1, kind="stable")[:, :n_used]
    w = np.take_along_axis(probs, idx, axis=-1)
    if norm_w and "no-renorm" not in c.mistakes:
        w = w / w.sum(axis=-1, keepdims=True)
    if scale_w and "no-routed-scale" not in c.mistakes:
        w = w * scale_w
    return idx, w


def forward_deepseek2(c, tokens, mla="auto", group_rule="top2"):
    A = "deepseek2."
    n_embd = c.kv(A + "embedding_length")
    n_layer = c.kv(A + "block_count")
    H = c.kv(A + "attention.head_count")
    eps = c.kv(A + "attention.layer_norm_rms_epsilon")
    d_c = c.kv(A + "attention.kv_lora_rank")
    d_r = c.kv(A + "rope.dimension_count")
    k_mla = c.kv(A + "attention.key_length_mla", 0) or 0
    v_mla = c.kv(A + "attention.value_length_mla", 0) or 0
    if k_mla and v_mla:
        d_k, d_v = k_mla, v_mla
    else:
        d_k = c.kv(A + "attention.key_length")
        d_v = c.kv(A + "attention.value_length")
    d_n = d_k - d_r
    n_dense = c.kv(A + "leading_dense_block_count", 0)
    n_used = c.kv(A + "expert_used_count", 0)
    gating = c.kv(A + "expert_gating_func", 0) or 1
    n_group = c.kv(A + "expert_group_count", 1) or 1
    n_group_used = c.kv(A + "expert_group_used_count", 1) or 1
    norm_w = bool(c.kv(A + "expert_weights_norm", False))
    scale_w = c.kv(A + "expert_weights_scale", 0.0)

    # rope / YaRN
    base = c.kv(A + "rope.freq_base", 10000.0)
    stype = c.kv(A + "rope.scaling.type", "none")
    factor = c.kv(A + "rope.scaling.factor", 1.0) if stype == "yarn" else 1.0
    if stype not in ("none", "yarn"):
        raise NotImplementedError("rope scaling %r for deepseek2" % stype)
    orig = c.kv(A + "rope.scaling.original_context_length", c.kv(A + "context_length"))
    bf = c.kv(A + "rope.scaling.yarn_beta_fast", 32.0)
    bs = c.kv(A + "rope.scaling.yarn_beta_slow", 1.0)
    theta = yarn_theta(d_r, base, factor, orig, bf, bs, ramp="no-yarn-ramp" not in c.mistakes)
    mu = c.kv(A + "rope.scaling.yarn_log_multiplier", 0.0) / 0.1
    mscale = 1.0 + 0.1 * mu * np.log(factor) if factor > 1.0 else 1.0
    if "no-m2" in c.mistakes:
        mscale = 1.0
    kq_scale = mscale * mscale / np.sqrt(d_n + d_r)
    rope_mode = "neox" if "swap-rope" in c.mistakes else "norm"

    T = len(tokens)
    pos = np.arange(T)
    x = c.t("token_embd.weight")[np.asarray(tokens)]
    for il in range(n_layer):
        p = "blk.%d." % il
        h = rmsnorm(x, c.t(p + "attn_norm.weight"), eps)
        # query
        if c.has(p + "attn_q.weight"):
            q = c.lin(h, p + "attn_q.weight")
        else:
            cq = rmsnorm(c.lin(h, p + "attn_q_a.weight"), c.t(p + "attn_q_a_norm.weight"), eps)
            q = c.lin(cq, p + "attn_q_b.weight")
        q = q.reshape(T, H, d_k)
        q_nope, q_pe = q[..., :d_n], q[..., d_n:]
        # latent kv + shared rope key
        a = c.lin(h, p + "attn_kv_a_mqa.weight")
        ckv = rmsnorm(a[:, :d_c], c.t(p + "attn_kv_a_norm.weight"), eps)
        k_pe = a[:, d_c:d_c + d_r]
        q_pe = rope(q_pe, pos, theta, rope_mode)
        k_pe = rope(k_pe, pos, theta, rope_mode)

        split = c.has(p + "attn_k_b.weight")
        natural = "absorbed" if split else "naive"  # the path the peer takes for this file
        mode = mla if mla != "auto" else natural
        if c.round_acts and mode != natural and il == 0:
            sys.stderr.write("warning: --round-acts with --mla %s: the peer uses %s for this file; the K/V "
                             "products that have no peer counterpart are not rounded\n" % (mode, natural))
        if mode == "naive":
            if split:
                # k_b numpy [H, d_c, d_n]: W_UK^h[d, c] = kb[h, c, d]; v_b numpy [H, d_v, d_c]
                k_nope = c.lin_heads(np.broadcast_to(ckv[:, None, :], (T, H, d_c)), p + "attn_k_b.weight",
                                     transpose=True)
                v = np.einsum("tc,hec->the", ckv, c.W(p + "attn_v_b.weight").w)
            else:
                kv = c.lin(ckv, p + "attn_kv_b.weight").reshape(T, H, d_n + d_v)
                k_nope, v = kv[..., :d_n], kv[..., d_n:]
            s = (np.einsum("thd,uhd->htu", q_nope, k_nope) +
                 np.einsum("thd,ud->htu", q_pe, k_pe)) * kq_scale
            pr = causal_attention(s)
            o = np.einsum("htu,uhe->the", pr, v)
        elif mode == "absorbed":
            if split:
                q_t = c.lin_heads(q_nope, p + "attn_k_b.weight")  # [T, H, d_c]
            else:
                kvb = c.W(p + "attn_kv_b.weight").w.reshape(H, d_n + d_v, d_c)
                q_t = np.einsum("thd,hdc->thc", q_nope, kvb[:, :d_n, :])
            s = (np.einsum("thc,uc->htu", q_t, ckv) + np.einsum("thd,ud->htu", q_pe, k_pe)) * kq_scale
            pr = causal_attention(s)
            o_lat = np.einsum("htu,uc->thc", pr, ckv)  # [T, H, d_c]
            if split:
                o = c.lin_heads(o_lat, p + "attn_v_b.weight")  # [T, H, d_v]
            else:
                kvb = c.W(p + "attn_kv_b.weight").w.reshape(H, d_n + d_v, d_c)
                o = np.einsum("thc,hec->the", o_lat, kvb[:, d_n:, :])
        else:
            raise ValueError("mla mode %r" % mla)
        x = x + c.lin(o.reshape(T, H * d_v), p + "attn_output.weight")

        # FFN
        h = rmsnorm(x, c.t(p + "ffn_norm.weight"), eps)
        if il < n_dense:
            x = x + swiglu(c, h, p)
            continue
        logits = h @ c.t(p + "ffn_gate_inp.weight").T  # router: never rounded (F32 in the peer)
        bias = c.t(p + "exp_probs_b.bias") if c.has(p + "exp_probs_b.bias") else None
        idx, w = route(c, logits, gating, bias, n_group, n_group_used, n_used, norm_w, scale_w, group_rule)
        y = np.zeros_like(x)
        for e in np.unique(idx):
            rows, slot = np.nonzero(idx == e)
            ye = swiglu(c, h[rows], p, expert=int(e))
            y[rows] += w[rows, slot][:, None] * ye
        if c.has(p + "ffn_gate_shexp.weight"):
            g = c.lin(h, p + "ffn_gate_shexp.weight")
            u = c.lin(h, p + "ffn_up_shexp.weight")
            y = y + c.lin(silu(g) * u, p + "ffn_down_shexp.weight")
        x = x + y
    x = rmsnorm(x, c.t("output_norm.weight"), eps)
    return c.lin(x, "output.weight" if c.has("output.weight") else "token_embd.weight")


# ---------------------------------------------------------------- llama / qwen2

def forward_dense(c, tokens, arch):
    A = arch + "."
    n_embd = c.kv(A + "embedding_length")
    n_layer = c.kv(A + "block_count")
    H = c.kv(A + "attention.head_count")
    Hkv = c.kv(A + "attention.head_count_kv", H)
    hd = c.kv(A + "attention.key_length", n_embd // H)
    hd_v = c.kv(A + "attention.value_length", hd)
    eps = c.kv(A + "attention.layer_norm_rms_epsilon")
    base = c.kv(A + "rope.freq_base", 10000.0)
    n_rot = c.kv(A + "rope.dimension_count", hd)
    stype = c.kv(A + "rope.scaling.type", "none")
    j = np.arange(n_rot // 2, dtype=np.float64)
    theta = base ** (-2.0 * j / n_rot)
    if stype == "linear":
        theta = theta / c.kv(A + "rope.scaling.factor", 1.0)
    elif stype not in ("none",):
        raise NotImplementedError("rope scaling %r for %s" % (stype, arch))
    if c.has("rope_freqs.weight") and "no-rope-freqs" not in c.mistakes:
        theta = theta / c.t("rope_freqs.weight")
    mode = "norm" if arch == "llama" else "neox"
    if "swap-rope" in c.mistakes:
        mode = "neox" if mode == "norm" else "norm"
    use_bias = "no-qkv-bias" not in c.mistakes
    T = len(tokens)
    pos = np.arange(T)
    grp = H // Hkv
    x = c.t("token_embd.weight")[np.asarray(tokens)]
    for il in range(n_layer):
        p = "blk.%d." % il
        h = rmsnorm(x, c.t(p + "attn_norm.weight"), eps)
        q, k, v = (c.lin(h, p + "attn_%s.weight" % n) for n in "qkv")
        if use_bias:
            if c.has(p + "attn_q.bias"):
                q = q + c.t(p + "attn_q.bias")
            if c.has(p + "attn_k.bias"):
                k = k + c.t(p + "attn_k.bias")
            if c.has(p + "attn_v.bias"):
                v = v + c.t(p + "attn_v.bias")
        q = q.reshape(T, H, hd)
        k = k.reshape(T, Hkv, hd)
        v = v.reshape(T, Hkv, hd_v)
        q = np.concatenate([rope(q[..., :n_rot], pos, theta, mode), q[..., n_rot:]], axis=-1)
        k = np.concatenate([rope(k[..., :n_rot], pos, theta, mode), k[..., n_rot:]], axis=-1)
        kh = np.repeat(k, grp, axis=1)  # query head h reads kv head h // grp
        vh = np.repeat(v, grp, axis=1)
        s = np.einsum("thd,uhd->htu", q, kh) / np.sqrt(hd)
        pr = causal_attention(s)
        o = np.einsum("htu,uhe->the", pr, vh).reshape(T, H * hd_v)
        x = x + c.lin(o, p + "attn_output.weight")
        h = rmsnorm(x, c.t(p + "ffn_norm.weight"), eps)
        x = x + swiglu(c, h, p)
    x = rmsnorm(x, c.t("output_norm.weight"), eps)
    return c.lin(x, "output.weight" if c.has("output.weight") else "token_embd.weight")


# ---------------------------------------------------------------- driver

def n_vocab_of(g):
    toks = g.kv.get("tokenizer.ggml.tokens")
    if toks is not None:
        return len(toks)
    arch = g.kv["general.architecture"]
    return g.kv.get(arch + ".vocab_size")


def run(path_or_gguf, tokens, mla="auto", group_rule="top2", round_acts=False, mistakes=()):
    g = path_or_gguf if isinstance(path_or_gguf, GGUFFile) else GGUFFile(path_or_gguf)
    c = Ctx(g, round_acts=round_acts, mistakes=mistakes)
    arch = g.kv["general.architecture"]
    if arch == "deepseek2":
        return forward_deepseek2(c, tokens, mla=mla, group_rule=group_rule)
    if arch in ("llama", "qwen2"):
        return forward_dense(c, tokens, arch)
    raise NotImplementedError("architecture %r" % arch)


def read_tokens(spec):
    if spec.startswith("@"):
        with open(spec[1:]) as f:
            spec = f.read()
    return [int(t) for t in spec.replace("\n", ",").split(",") if t.strip()]


def compare(logits, ref_path, n_vocab):
    ref = np.fromfile(ref_path, dtype="<f4").astype(np.float64)
    ref = ref.reshape(-1, n_vocab)
    if ref.shape[0] != logits.shape[0]:
        raise ValueError("%s: %d rows, computed %d" % (ref_path, ref.shape[0], logits.shape[0]))
    d = np.abs(logits - ref)
    per_pos = d.max(axis=1)
    agree = np.mean(np.argmax(logits, axis=1) == np.argmax(ref, axis=1))
    bad = np.nonzero(per_pos > 1e-5)[0]
    return {
        "max_diff": float(d.max()), "max_ref": float(np.abs(ref).max()),
        "median_pos_max": float(np.median(per_pos)), "mean_diff": float(d.mean()),
        "argmax_agree": float(agree), "first_pos_over_1e-5": int(bad[0]) if len(bad) else -1,
        "per_pos": per_pos,
    }


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--tokens", help="comma-separated ids, or @FILE (default: MODEL's NAME.tokens)")
    ap.add_argument("--mla", choices=["auto", "naive", "absorbed"], default="auto",
                    help="auto = absorbed for split attn_k_b/attn_v_b files, naive for legacy attn_kv_b")
    ap.add_argument("--group-rule", choices=["top2", "max"], default="top2",
                    help="group score when expert_group_count > 1: sum of top-2 (V3 / llama.cpp) or max (DeepSeek V2)")
    ap.add_argument("--round-acts", action="store_true",
                    help="round activations before quantized matmuls like the peer's CPU backend")
    ap.add_argument("--mistake", action="append", default=[], choices=sorted(MISTAKES),
                    help="introduce a deliberate error (sensitivity check)")
    ap.add_argument("--out", help="write float32 LE logits [n_tokens x n_vocab]")
    ap.add_argument("--compare", action="append", default=[], help="compare with a float32 logits file")
    a = ap.parse_args(argv)

    if a.tokens:
        tokens = read_tokens(a.tokens)
    else:
        tp = os.path.splitext(a.model)[0] + ".tokens"
        if not os.path.exists(tp):
            ap.error("--tokens required (no %s)" % tp)
        tokens = read_tokens("@" + tp)
    g = GGUFFile(a.model)
    logits = run(g, tokens, mla=a.mla, group_rule=a.group_rule, round_acts=a.round_acts, mistakes=a.mistake)
    nv = n_vocab_of(g)
    if logits.shape[1] != nv:
        logits = logits[:, :nv]
    if a.out:
        logits.astype("<f4").tofile(a.out)
    rc = 0
    for f in a.compare:
        r = compare(logits, f, nv)
        print("%s: max|diff| %.3g  max|ref| %.3g  median pos-max %.3g  mean|diff| %.3g  argmax agree %.1f%%  "
              "first pos >1e-5: %d" % (f, r["max_diff"], r["max_ref"], r["median_pos_max"], r["mean_diff"],
                                      100 * r["argmax_agree"], r["first_pos_over_1e-5"]))
    if not a.out and not a.compare:
        print("logits %s, argmax per position: %s" % (logits.shape, " ".join(str(int(i)) for i in logits.argmax(1))))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
