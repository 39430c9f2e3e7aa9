/*
 * normalize.c - Unicode NFC, the normalizer of Qwen's tokenizers.
 *
 * Hugging Face tokenizers normalize each piece of text between special
 * tokens before pre-tokenizing; Qwen2/2.5/3 ask for NFC, so "e" + U+0301
 * must become "é" before BPE sees it. The tables come from utf8proc (no
 * Unicode data is kept in deepc). utf8proc writes into buffers we give it,
 * so every byte here is a dc_malloc byte: decompose into code points (one
 * pass to size, one to fill), compose in place, re-encode in place.
 * ASCII text is already NFC and is returned as a copy without that work.
 */
#include "text_impl.h"

#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

dc_status dc_nfc(const char *s, size_t n, char **dst, size_t *dst_len) {
    DC_CHECK_ARG(dst && dst_len && (s || n == 0));
    *dst = NULL;
    *dst_len = 0;
    bool ascii = true;
    for (size_t i = 0; i < n && ascii; i++) ascii = (uint8_t)s[i] < 0x80;
    if (ascii) {
        char *c = dc_calloc(1, dc_pad(n + 1, DC_ALIGN));   /* see below */
        if (!c) return DC_ERR_NOMEM;
        if (n) memcpy(c, s, n);
        *dst = c;
        *dst_len = n;
        return DC_OK;
    }
    if (n > (size_t)PTRDIFF_MAX / 8)
        return dc_error(DC_ERR_INVALID_ARG, "NFC: text of %zu bytes is too long", n);
    const utf8proc_option_t opts = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
    utf8proc_ssize_t ncp = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n,
                                              NULL, 0, opts);
    if (ncp < 0)
        return dc_error(DC_ERR_INTERNAL, "NFC: utf8proc: %s", utf8proc_errmsg(ncp));
    /* One int32 per code point, re-encoded in place (UTF-8 needs at most
     * four bytes per code point), plus room for utf8proc's terminator.
     * Zeroed to the allocation's 64-byte padding, as all text PCRE2 scans:
     * its JIT reads aligned blocks past the end (harmless, but memory
     * checkers flag never-written bytes). */
    utf8proc_int32_t *buf = dc_calloc(1, dc_pad(((size_t)ncp + 1) * sizeof *buf, DC_ALIGN));
    if (!buf) return DC_ERR_NOMEM;
    utf8proc_ssize_t got = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n,
                                              buf, ncp, opts);
    if (got < 0 || got > ncp) {
        dc_free(buf);
        return dc_error(DC_ERR_INTERNAL, "NFC: utf8proc decompose returned %ld", (long)got);
    }
    utf8proc_ssize_t bytes = utf8proc_reencode(buf, got, opts);
    if (bytes < 0) {
        dc_free(buf);
        return dc_error(DC_ERR_INTERNAL, "NFC: utf8proc: %s", utf8proc_errmsg(bytes));
    }
    *dst = (char *)buf;
    *dst_len = (size_t)bytes;
    return DC_OK;
}
