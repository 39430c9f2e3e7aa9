#!/usr/bin/python3
"""Minimal GGUF v2/v3 reader with float64 dequantization (independent reference).

Written from docs/spec (shared/spec/fp8-gguf.md §2.1-2.4, quant-layouts.md), not
from any C code. Only numpy is needed.

    g = GGUFFile("model.gguf")
    g.kv["general.architecture"]          -> 'deepseek2'
    g.tensors["blk.0.attn_q_a.weight"]    -> TensorInfo(name, ne, type, offset)
    g.raw(name)                           -> numpy uint8 memmap slice of the tensor bytes
    g.get(name)                           -> float64 array, numpy shape = reversed(ne)

Supported types: F32 F16 BF16 F64 I8 I16 I32 I64, Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q8_1,
Q2_K Q3_K Q4_K Q5_K Q6_K Q8_K.

Dequantization is exact in float64 (every product of an f16 scale and a small
integer is exact; the only rounding ggml does in f32 is a final add/subtract,
so float32(our value) equals ggml's f32 dequant bit for bit).
"""
import os
import struct
import sys

try:
    import numpy as np
except ImportError:  # pyenv python without numpy: retry with Debian's python3
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") \
            and __name__ == "__main__":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

GGUF_MAGIC = b"GGUF"

# value types
VT_U8, VT_I8, VT_U16, VT_I16, VT_U32, VT_I32, VT_F32, VT_BOOL, VT_STR, VT_ARR, VT_U64, VT_I64, VT_F64 = range(13)
_SCALAR = {
    VT_U8: ("<B", 1), VT_I8: ("<b", 1), VT_U16: ("<H", 2), VT_I16: ("<h", 2),
    VT_U32: ("<I", 4), VT_I32: ("<i", 4), VT_F32: ("<f", 4), VT_BOOL: ("<B", 1),
    VT_U64: ("<Q", 8), VT_I64: ("<q", 8), VT_F64: ("<d", 8),
}
_NP_SCALAR = {
    VT_U8: "<u1", VT_I8: "<i1", VT_U16: "<u2", VT_I16: "<i2", VT_U32: "<u4", VT_I32: "<i4",
    VT_F32: "<f4", VT_U64: "<u8", VT_I64: "<i8", VT_F64: "<f8",
}

# ggml type ids -> (name, block elements, block bytes)
GGML_TYPES = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98), 19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110), 22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56), 30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
}
TYPE_ID = {v[0]: k for k, v in GGML_TYPES.items()}


class TensorInfo:
    __slots__ = ("name", "ne", "type", "offset", "nbytes")

    def __init__(self, name, ne, ttype, offset):
        self.name, self.ne, self.type, self.offset = name, tuple(ne), ttype, offset
        if ttype not in GGML_TYPES:
            raise ValueError("tensor %s: unknown ggml type %d" % (name, ttype))
        _, blk, bsz = GGML_TYPES[ttype]
        if ne[0] % blk:
            raise ValueError("tensor %s: ne[0]=%d not a multiple of block %d" % (name, ne[0], blk))
        n = 1
        for v in ne:
            n *= v
        self.nbytes = n // blk * bsz

    @property
    def type_name(self):
        return GGML_TYPES[self.type][0]

    @property
    def shape(self):
        """numpy shape (outermost first) = reversed ne."""
        return tuple(reversed(self.ne))

    def __repr__(self):
        return "TensorInfo(%s, ne=%s, %s, off=%d)" % (self.name, self.ne, self.type_name, self.offset)


class _Reader:
    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def take(self, n):
        if self.pos + n > len(self.buf):
            raise ValueError("GGUF truncated at offset %d" % self.pos)
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def scalar(self, vt):
        fmt, n = _SCALAR[vt]
        v = struct.unpack(fmt, self.take(n))[0]
        if vt == VT_BOOL:
            if v > 1:
                raise ValueError("bad bool value %d" % v)
            v = bool(v)
        return v

    def u32(self):
        return self.scalar(VT_U32)

    def u64(self):
        return self.scalar(VT_U64)

    def string(self):
        n = self.u64()
        return bytes(self.take(n)).decode("utf-8", errors="surrogateescape")

    def value(self, vt):
        if vt == VT_STR:
            return self.string()
        if vt == VT_ARR:
            et = self.u32()
            n = self.u64()
            if et == VT_STR:
                return [self.string() for _ in range(n)]
            if et == VT_ARR:
                return [self.value(VT_ARR) for _ in range(n)]  # nested (spec allows; ggml rejects)
            if et == VT_BOOL:
                return [self.scalar(VT_BOOL) for _ in range(n)]
            if et not in _NP_SCALAR:
                raise ValueError("bad array element type %d" % et)
            size = np.dtype(_NP_SCALAR[et]).itemsize
            arr = np.frombuffer(bytes(self.take(n * size)), dtype=_NP_SCALAR[et])
            return arr.tolist()
        if vt not in _SCALAR:
            raise ValueError("bad value type %d" % vt)
        return self.scalar(vt)


class GGUFFile:
    def __init__(self, path):
        self.path = path
        self.mm = np.memmap(path, dtype=np.uint8, mode="r")
        r = _Reader(memoryview(self.mm))
        if bytes(r.take(4)) != GGUF_MAGIC:
            raise ValueError("%s: not a GGUF file" % path)
        self.version = r.u32()
        if self.version not in (2, 3):
            raise ValueError("%s: unsupported GGUF version %d" % (path, self.version))
        n_tensors, n_kv = r.u64(), r.u64()
        self.kv = {}
        self.kv_types = {}
        for _ in range(n_kv):
            key = r.string()
            vt = r.u32()
            if key in self.kv:
                raise ValueError("duplicate key %s" % key)
            self.kv[key] = r.value(vt)
            self.kv_types[key] = vt
        self.tensors = {}
        self.tensor_order = []
        for _ in range(n_tensors):
            name = r.string()
            nd = r.u32()
            if nd < 1 or nd > 4:
                raise ValueError("tensor %s: n_dims %d" % (name, nd))
            ne = [r.u64() for _ in range(nd)]
            tt = r.u32()
            off = r.u64()
            if name in self.tensors:
                raise ValueError("duplicate tensor %s" % name)
            self.tensors[name] = TensorInfo(name, ne, tt, off)
            self.tensor_order.append(name)
        self.alignment = int(self.kv.get("general.alignment", 32))
        pos = r.pos
        self.data_start = (pos + self.alignment - 1) // self.alignment * self.alignment
        for t in self.tensors.values():
            if self.data_start + t.offset + t.nbytes > len(self.mm):
                raise ValueError("tensor %s extends past end of file" % t.name)

    def __contains__(self, name):
        return name in self.tensors

    def raw(self, name):
        t = self.tensors[name]
        s = self.data_start + t.offset
        return self.mm[s:s + t.nbytes]

    def get(self, name, dtype=np.float64):
        """Dequantized tensor, numpy shape = reversed(ne)."""
        t = self.tensors[name]
        flat = dequantize(self.raw(name), t.type, int(np.prod(t.ne)))
        return flat.reshape(t.shape).astype(dtype, copy=False)

    def block_mins(self, name):
        """Per-block additive minimum m for Q4_1/Q5_1 (needed to emulate ggml's Q8_1 dot); shape rows×nblocks."""
        t = self.tensors[name]
        name_t = t.type_name
        if name_t not in ("Q4_1", "Q5_1"):
            return None
        b = np.asarray(self.raw(name)).reshape(-1, GGML_TYPES[t.type][2])
        m = _f16(b[:, 2:4])
        return m.reshape(tuple(reversed(t.ne[1:])) + (t.ne[0] // 32,))


# ---------------------------------------------------------------- dequantization

def _f16(b2):
    """uint8 [..., 2] -> float64 of the little-endian f16."""
    return np.ascontiguousarray(b2).view("<f2").astype(np.float64)[..., 0]


def _f32(b4):
    return np.ascontiguousarray(b4).view("<f4").astype(np.float64)[..., 0]


def _nib32(qs):
    """qs uint8 [n, 16] -> int [n, 32]: element j low nibble of qs[j], element j+16 high nibble."""
    return np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.int64)


def _qh_bits32(qh4):
    """qh uint8 [n, 4] (LE u32) -> int [n, 32] bit e of the u32."""
    u = np.ascontiguousarray(qh4).view("<u4")[:, 0].astype(np.int64)
    return (u[:, None] >> np.arange(32)[None, :]) & 1


def _k_scale_min(sc):
    """Q4_K/Q5_K 12-byte 6-bit packing -> (sc[n,8], m[n,8])."""
    sc = sc.astype(np.int64)
    s = np.empty((sc.shape[0], 8), np.int64)
    m = np.empty((sc.shape[0], 8), np.int64)
    for j in range(4):
        s[:, j] = sc[:, j] & 63
        m[:, j] = sc[:, j + 4] & 63
    for j in range(4, 8):
        s[:, j] = (sc[:, j + 4] & 15) | ((sc[:, j - 4] >> 6) << 4)
        m[:, j] = (sc[:, j + 4] >> 4) | ((sc[:, j] >> 6) << 4)
    return s, m


def dequantize(raw, ttype, n):
    name, blk, bsz = GGML_TYPES[ttype]
    raw = np.asarray(raw)
    if name == "F32":
        return raw.view("<f4").astype(np.float64)
    if name == "F16":
        return raw.view("<f2").astype(np.float64)
    if name == "BF16":
        return (raw.view("<u2").astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    if name == "F64":
        return raw.view("<f8").astype(np.float64)
    if name in ("I8", "I16", "I32", "I64"):
        return raw.view({"I8": "i1", "I16": "<i2", "I32": "<i4", "I64": "<i8"}[name]).astype(np.float64)
    nb = n // blk
    b = raw.reshape(nb, bsz)
    if name == "Q8_0":
        d = _f16(b[:, 0:2])
        q = b[:, 2:34].view(np.int8).astype(np.float64)
        y = q * d[:, None]
    elif name == "Q8_1":
        d = _f16(b[:, 0:2])
        q = b[:, 4:36].view(np.int8).astype(np.float64)
        y = q * d[:, None]
    elif name == "Q4_0":
        d = _f16(b[:, 0:2])
        y = (_nib32(b[:, 2:18]) - 8) * d[:, None]
    elif name == "Q4_1":
        d, m = _f16(b[:, 0:2]), _f16(b[:, 2:4])
        y = _nib32(b[:, 4:20]) * d[:, None] + m[:, None]
    elif name == "Q5_0":
        d = _f16(b[:, 0:2])
        q = _nib32(b[:, 6:22]) | (_qh_bits32(b[:, 2:6]) << 4)
        y = (q - 16) * d[:, None]
    elif name == "Q5_1":
        d, m = _f16(b[:, 0:2]), _f16(b[:, 2:4])
        q = _nib32(b[:, 8:24]) | (_qh_bits32(b[:, 4:8]) << 4)
        y = q * d[:, None] + m[:, None]
    elif name == "Q8_K":
        d = _f32(b[:, 0:4])
        y = b[:, 4:260].view(np.int8).astype(np.float64) * d[:, None]
    elif name == "Q2_K":
        scales = b[:, 0:16].astype(np.int64)
        qs = b[:, 16:80].astype(np.int64)
        d, dmin = _f16(b[:, 80:82]), _f16(b[:, 82:84])
        e = np.arange(256)
        H, c, l = e // 128, (e % 128) // 32, e % 32
        q = (qs[:, 32 * H + l] >> (2 * c)) & 3
        j = e // 16
        sc, mm = scales[:, j] & 15, scales[:, j] >> 4
        y = d[:, None] * sc * q - dmin[:, None] * mm
    elif name == "Q3_K":
        hmask = b[:, 0:32].astype(np.int64)
        qs = b[:, 32:96].astype(np.int64)
        sb = b[:, 96:108].astype(np.int64)
        d = _f16(b[:, 108:110])
        e = np.arange(256)
        H, c, l = e // 128, (e % 128) // 32, e % 32
        low2 = (qs[:, 32 * H + l] >> (2 * c)) & 3
        hb = (hmask[:, e % 32] >> (e // 32)) & 1
        q = low2 - np.where(hb == 1, 0, 4)
        jj = np.arange(16)
        s = np.where(jj < 8, sb[:, jj % 8] & 15, sb[:, jj % 8] >> 4) | (((sb[:, 8 + jj % 4] >> (2 * (jj // 4))) & 3) << 4)
        y = d[:, None] * (s[:, e // 16] - 32) * q
    elif name in ("Q4_K", "Q5_K"):
        d, dmin = _f16(b[:, 0:2]), _f16(b[:, 2:4])
        sc, mn = _k_scale_min(b[:, 4:16])
        if name == "Q4_K":
            qs = b[:, 16:144].astype(np.int64)
            qh = None
        else:
            qh = b[:, 16:48].astype(np.int64)
            qs = b[:, 48:176].astype(np.int64)
        q = np.empty((nb, 256), np.int64)
        for c in range(4):
            lo = qs[:, 32 * c:32 * c + 32] & 15
            hi = qs[:, 32 * c:32 * c + 32] >> 4
            if qh is not None:
                lo = lo | (((qh >> (2 * c)) & 1) << 4)
                hi = hi | (((qh >> (2 * c + 1)) & 1) << 4)
            q[:, 64 * c:64 * c + 32] = lo
            q[:, 64 * c + 32:64 * c + 64] = hi
        j = np.arange(256) // 32
        y = d[:, None] * sc[:, j] * q - dmin[:, None] * mn[:, j]
    elif name == "Q6_K":
        ql = b[:, 0:128].astype(np.int64)
        qh = b[:, 128:192].astype(np.int64)
        scales = b[:, 192:208].view(np.int8).astype(np.int64)
        d = _f16(b[:, 208:210])
        q = np.empty((nb, 256), np.int64)
        for h in range(2):
            L = ql[:, 64 * h:64 * h + 64]
            Hh = qh[:, 32 * h:32 * h + 32]
            base = 128 * h
            q[:, base:base + 32] = (L[:, 0:32] & 15) | (((Hh >> 0) & 3) << 4)
            q[:, base + 32:base + 64] = (L[:, 32:64] & 15) | (((Hh >> 2) & 3) << 4)
            q[:, base + 64:base + 96] = (L[:, 0:32] >> 4) | (((Hh >> 4) & 3) << 4)
            q[:, base + 96:base + 128] = (L[:, 32:64] >> 4) | (((Hh >> 6) & 3) << 4)
        y = d[:, None] * scales[:, np.arange(256) // 16] * (q - 32)
    else:
        raise NotImplementedError("dequantization of %s" % name)
    return y.reshape(-1)


# ---------------------------------------------------------------- CLI

def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description="dump a GGUF file (keys, tensors)")
    ap.add_argument("file")
    ap.add_argument("--values", action="store_true", help="print long arrays in full")
    a = ap.parse_args(argv)
    g = GGUFFile(a.file)
    print("GGUF v%d, %d keys, %d tensors, alignment %d, data at %d" %
          (g.version, len(g.kv), len(g.tensors), g.alignment, g.data_start))
    for k, v in g.kv.items():
        if isinstance(v, list) and len(v) > 8 and not a.values:
            v = "[%d items: %s ...]" % (len(v), ", ".join(repr(x) for x in v[:4]))
        print("  %-50s %r" % (k, v))
    for n in g.tensor_order:
        t = g.tensors[n]
        print("  %-40s %-6s ne=%s" % (n, t.type_name, list(t.ne)))


if __name__ == "__main__":
    main(sys.argv[1:])
