/*
 * byte_map.c - UTF-8 validation and repair, and the GPT-2 byte <-> unicode map.
 *
 * UTF-8: a sequence is valid by RFC 3629 (no overlongs, no surrogates,
 * nothing above U+10FFFF). Repair replaces each byte that does not belong to
 * a valid sequence by U+FFFD, one per byte, as llama.cpp does (spec/fp8-gguf.md
 * §3.3 step 4), so the repaired text is at most three times as long.
 *
 * Byte map (byte-level BPE stores tokens as text): bytes 0x21-0x7E,
 * 0xA1-0xAC and 0xAE-0xFF stand for the code point of the same value; the
 * remaining 68 bytes (0x00-0x20, 0x7F-0xA0, 0xAD), in increasing order, stand
 * for U+0100 + n, n = 0..67 (space is U+0120 "Ġ", LF is U+010A "Ċ"). Both
 * directions are computed from that rule, no table is stored.
 */
#include "text_impl.h"

/* ---- UTF-8 ------------------------------------------------------------------ */

static bool is_cont(uint8_t b) { return (b & 0xC0) == 0x80; }

int dc_utf8_valid_len(const uint8_t *s, size_t n) {
    if (n == 0) return 0;
    uint8_t b = s[0];
    if (b < 0x80) return 1;
    if (b < 0xC2) return 0;                       /* continuation or overlong */
    if (b < 0xE0) return n >= 2 && is_cont(s[1]) ? 2 : 0;
    if (b < 0xF0) {
        if (n < 3 || !is_cont(s[1]) || !is_cont(s[2])) return 0;
        if (b == 0xE0 && s[1] < 0xA0) return 0;   /* overlong           */
        if (b == 0xED && s[1] >= 0xA0) return 0;  /* UTF-16 surrogates  */
        return 3;
    }
    if (b < 0xF5) {
        if (n < 4 || !is_cont(s[1]) || !is_cont(s[2]) || !is_cont(s[3])) return 0;
        if (b == 0xF0 && s[1] < 0x90) return 0;   /* overlong           */
        if (b == 0xF4 && s[1] >= 0x90) return 0;  /* above U+10FFFF     */
        return 4;
    }
    return 0;
}

/* Whether s[0..n), n < expected length, could still become a valid
 * character: the same checks as above, on the bytes present. */
static bool valid_prefix(const uint8_t *s, size_t n) {
    uint8_t b = s[0];
    int want = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
    if (b < 0xC2 || b >= 0xF5 || (int)n >= want) return false;
    for (size_t i = 1; i < n; i++)
        if (!is_cont(s[i])) return false;
    if (n >= 2) {
        if (b == 0xE0 && s[1] < 0xA0) return false;
        if (b == 0xED && s[1] >= 0xA0) return false;
        if (b == 0xF0 && s[1] < 0x90) return false;
        if (b == 0xF4 && s[1] >= 0x90) return false;
    }
    return true;
}

size_t dc_utf8_incomplete_tail(const uint8_t *s, size_t n) {
    /* A lead byte at most 3 bytes from the end, followed only by
     * continuation bytes, that needs more than it has. */
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        uint8_t b = s[n - k];
        if (is_cont(b)) continue;
        return valid_prefix(s + n - k, k) ? k : 0;
    }
    return 0;
}

size_t dc_utf8_count_invalid(const uint8_t *s, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n;) {
        int l = dc_utf8_valid_len(s + i, n - i);
        if (l == 0) {
            bad++;
            i++;
        } else {
            i += (size_t)l;
        }
    }
    return bad;
}

size_t dc_utf8_sanitize(const uint8_t *s, size_t n, uint8_t *dst) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        int l = dc_utf8_valid_len(s + i, n - i);
        if (l == 0) {
            dst[o++] = 0xEF;
            dst[o++] = 0xBF;
            dst[o++] = 0xBD;
            i++;
        } else {
            for (int k = 0; k < l; k++) dst[o++] = s[i + (size_t)k];
            i += (size_t)l;
        }
    }
    return o;
}

int dc_utf8_encode(uint32_t cp, uint8_t out[4]) {
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

uint32_t dc_utf8_decode(const uint8_t *s, int len) {
    switch (len) {
    case 1: return s[0];
    case 2: return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    case 3: return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    default:
        return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
               ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    }
}

/* ---- GPT-2 byte map ------------------------------------------------------------ */

/* Bytes that stand for themselves. */
static bool byte_is_printable(uint32_t b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

/* Rank of a non-printable byte among the 68 of them (0x00-0x20 are 0..32,
 * 0x7F-0xA0 are 33..66, 0xAD is 67). */
uint32_t dc_byte_to_cp(uint8_t b) {
    if (byte_is_printable(b)) return b;
    if (b <= 0x20) return 0x100u + b;
    if (b <= 0xA0) return 0x100u + 33 + (uint32_t)(b - 0x7F);
    return 0x100u + 67;   /* 0xAD */
}

int dc_cp_to_byte(uint32_t cp) {
    if (cp <= 0xFF) return byte_is_printable(cp) ? (int)cp : -1;
    if (cp < 0x100 || cp > 0x100 + 67) return -1;
    uint32_t n = cp - 0x100;
    if (n <= 32) return (int)n;
    if (n <= 66) return (int)(0x7F + (n - 33));
    return 0xAD;
}
