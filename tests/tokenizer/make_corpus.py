#!/usr/bin/env python3
"""Write corpus.json and divergent.json for the tokenizer reference test.

corpus.json: an array of strings, grouped by category (English, code, CJK,
other scripts, combining marks, emoji, numbers, white space, punctuation,
special-token strings, long lines, seeded random mixes). deepc must give the
same ids as the JavaScript reference for every one of them.

divergent.json: strings on which the reference implementations themselves
disagree, so they are reported, not required (see tests/tokenizer/README.md):
U+0085 / U+FEFF / U+180E (JavaScript's \\s differs from the Unicode
White_Space set Hugging Face's Oniguruma and llama.cpp use) and characters
assigned after Unicode 14 (PCRE2 10.42's tables end there, Node's ICU has 17).

Random strings use only characters Unicode 14 assigns (Python's unicodedata
is 14.0 here, like PCRE2 10.42). Run: python3 make_corpus.py (deterministic).
"""
import json
import os
import random
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
assert unicodedata.unidata_version == "14.0.0", "regenerate with Unicode 14 tables"

cases = []


def add(*xs):
    cases.extend(xs)


# ---- English ----------------------------------------------------------------------
add(
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure you'll agree it's what they've said: we'd better go, they're late.",
    "DON'T SHOUT. I'M NOT DEAF. YOU'LL SEE, IT'S FINE. WE'D, THEY'VE, SHE'S",
    "don't DoN't dOn'T 's 't 're 've 'm 'll 'd 'S 'T 'RE 'VE 'M 'LL 'D 'x 'st",
    "It’s curly: don’t, I’ll, we’re — “quoted” and ‘single’.",
    "Mr. O'Neil's dog's bone; the students' books; rock 'n' roll; '90s music.",
    "A sentence with trailing space ",
    " leading space",
    "  two leading spaces and two trailing  ",
    "Tabs\tbetween\twords\tand\t\tdouble tabs",
    "Line one\nLine two\n\nLine four after a blank line\n",
    "Windows\r\nline\r\nendings\r\n",
    "Old Mac\rline\rendings",
    "CamelCaseIdentifier snake_case_name kebab-case-name SCREAMING_SNAKE",
    "e-mail: someone@example.com, URL: https://example.com/path/to?q=1&r=two#frag",
    "Path C:\\Users\\name\\file.txt and /usr/local/lib/libdeepc.a",
    "#hashtag @mention $variable %percent ^caret &amp; *star",
    "Résumé naïve café coöperate façade jalapeño piñata Zürich",
    "",
    " ",
    "a",
    "\n",
)
add("""Tokenizers split text into pieces. A byte-level BPE first maps every byte
to a printable character, then merges frequent pairs. The result: any input,
even binary junk, becomes a sequence of known tokens -- nothing is "unknown".
Numbers like 3.14159, 2,718 and 1e-9 are split into groups; "quotes" stay
attached, and so do (parentheses) and [brackets].""")

# ---- code -------------------------------------------------------------------------
add(
    """#include <stdio.h>

int main(int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        printf("%d: %s\\n", i, argv[i]);
    }
    return 0;
}
""",
    """def fib(n: int) -> int:
    \"\"\"Return the n-th Fibonacci number.\"\"\"
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


if __name__ == "__main__":
    print([fib(i) for i in range(20)])
""",
    """const add = (a, b) => a + b;
export default function Component({ items }) {
\treturn <ul>{items.map((x) => <li key={x.id}>{x.name}</li>)}</ul>;
}
// TODO: handle === and !== and ?? and ?.
""",
    """fn main() {
    let v: Vec<u32> = (0..10).filter(|x| x % 2 == 0).collect();
    println!("{:?} {}", v, v.iter().sum::<u32>());
}
""",
    """#!/bin/sh
set -euo pipefail
for f in *.gguf; do echo "$f: $(stat -c %s "$f") bytes"; done 2>&1 | sort -n >> log.txt
""",
    '{"name": "deepc", "version": "0.1.0", "tags": ["c11", "meson"], "n": [1, 22, 333, 4444], "ok": true, "x": null}',
    """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Test &amp; check</title></head>
<body><p class="a b">Hello&nbsp;world</p><!-- comment --></body></html>""",
    "SELECT id, name FROM users WHERE age >= 18 AND name LIKE '%son' ORDER BY id DESC LIMIT 10;",
    r"^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*)@(?:[a-z0-9-]+\.)+[a-z]{2,}$",
    "# Title\n\n- item **bold** and _it_\n- `code` and [link](http://x.y)\n\n```c\nint x = 1;\n```\n",
    r"\begin{equation} E = mc^2 + \sum_{i=0}^{n} \frac{a_i}{b_i} \end{equation}",
    "\t\tindented with tabs\n        indented with 8 spaces\n    \t mixed indent\n",
    "x+=1;y-=2;z*=3;w/=4;a<<=1;b>>=2;c&&d||e;f!=g;h==i;j<=k;l>=m;n->o;p::q;r..s;t...u",
    "0x1F 0xDEADBEEF 0b1010 0o777 1_000_000 3.0e+10 .5 5. 1e-9f 42u 42ULL",
)

# ---- Chinese, Japanese, Korean ---------------------------------------------------------
add(
    "你好，世界！这是一个测试。",
    "深度求索（DeepSeek）是一家人工智能公司，成立于2023年。",
    "我爱北京天安门，天安门上太阳升。伟大领袖毛主席，指引我们向前进。",
    "繁體中文：臺灣、香港、澳門的書寫系統保留了傳統字形。",
    "中英混排：使用GPU加速的LLM推理速度达到100 tokens/s以上。",
    "数学公式：x² + y² = z²，其中x、y、z均为正整数（勾股定理）。",
    "「引号」『双引号』《书名》〈篇名〉【方括号】〔龟甲〕——破折号……省略号",
    "日本語のテキスト：ひらがな、カタカナ、漢字が混在しています。",
    "東京は日本の首都です。人口は約1400万人で、世界最大の都市圏の一つです。",
    "カタカナ語：コンピューター、インターネット、プログラミング、データベース",
    "ｶﾀｶﾅ半角 ﾃｽﾄ ｰ ｯ ﾟﾞ and ＦＵＬＬＷＩＤＴＨ ａｂｃ １２３ ！？",
    "ー長音符号ーとゝゞヽヾ々〆〇の踊り字",
    "한국어 텍스트입니다. 안녕하세요, 세계!",
    "대한민국의 수도는 서울특별시이며, 인구는 약 950만 명입니다.",
    "한글 자모: ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎ ㅏㅑㅓㅕㅗㅛㅜㅠㅡㅣ",
    "漢字와 한글을 섞어 쓴 文章입니다. 日本語とも混ぜる。",
    "中文 English 日本語 한국어 mixed\n換行\t制表符",
    "𠀀𠀁𠀂 𪚥 𩸽 CJK extension B characters and 〇",
)

# ---- other scripts, RTL ----------------------------------------------------------------
add(
    "Русский текст: Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Ελληνικά: Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. Ἐν ἀρχῇ ἦν ὁ λόγος.",
    "العربية: مرحبا بالعالم! هذا نص تجريبي.",
    "بِسْمِ اللَّهِ الرَّحْمَٰنِ الرَّحِيمِ",
    "עברית: שלום עולם! בְּרֵאשִׁית בָּרָא אֱלֹהִים",
    "فارسی: سلام دنیا، این یک متن آزمایشی است.",
    "हिन्दी: नमस्ते दुनिया! यह एक परीक्षण पाठ है।",
    "বাংলা: হ্যালো বিশ্ব! তামিল: வணக்கம் உலகம்! తెలుగు: హలో ప్రపంచం",
    "ไทย: สวัสดีชาวโลก นี่คือข้อความทดสอบภาษาไทยที่ไม่มีช่องว่าง",
    "Tiếng Việt: Xin chào thế giới! Đây là văn bản thử nghiệm.",
    "ქართული: გამარჯობა მსოფლიო! Հայերեն: Բարեւ աշխարհ!",
    "አማርኛ: ሰላም ልዑል! ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ",
    "Türkçe: İstanbul, ıişık; Deutsch: Straße, GROẞ; Íslenska: Þórður, ðæ",
    "Mixed RTL: the word שלום means peace, and مرحبا means hello (123).",
    "\u202eRLO override\u202c and \u200fRLM\u200f marks and \u200eLRM\u200e",
    "ʻOkina and ʼapostrophe, ˈstress ˌmarks, IPA: ðə kwɪk bɹaʊn fɑks",
    "Math letters: 𝐀𝐁𝐂 𝑎𝑏𝑐 𝔸𝔹ℂ ℕℤℚℝ ℌℑℜ ﬁ ﬂ ﬀ ligatures",
)

# ---- combining marks (NFC matters for Qwen) -----------------------------------------------
add(
    "e\u0301 a\u0300 o\u0308 n\u0303 c\u0327 (decomposed) vs é à ö ñ ç (precomposed)",
    "Z\u0351\u034a\u035b\u0363a\u0310\u0301\u0345l\u0322\u0318g\u0315\u0341o\u0489 text",
    "q\u0307\u0323 x\u0301 a\u0323\u0302 a\u0302\u0323 (mark order)",
    "\u1100\u1161\u11a8 \u1112\u1161\u11ab\u1100\u1173\u11af (Hangul jamo)",
    "\u0915\u093c \u0958 \u0929 \u0928\u093c (Devanagari nukta)",
    "\u212b \u2126 \u212a \u00c5 (singletons) \uf900\uf901 (compatibility ideographs)",
    "\u0301\u0301 marks at start, 1\u20e3 keycap-like, \u0020\u0301 space+mark",
    "Ṩ\u0323\u0307 ḍ\u0307 ǖ ǘ ǚ ǜ pinyin: nǚ lǜ lüè",
    "Tiê\u0301ng Viê\u0323t decomposed Vietnamese",
)

# ---- emoji ------------------------------------------------------------------------------
add(
    "Emoji: 😀😃😄😁 🙂 🙃 😉 ❤️ 👍 🔥 ✨ 🎉",
    "Skin tones: 👋🏻 👋🏼 👋🏽 👋🏾 👋🏿",
    "ZWJ family: 👨‍👩‍👧‍👦 👩‍👩‍👦 👨‍👨‍👧‍👧 couple: 👩‍❤️‍💋‍👨",
    "Professions: 👩‍💻 👨‍🚀 🧑‍🔬 👩🏽‍⚕️ 🏳️‍🌈 🏴‍☠️",
    "Flags: 🇺🇸🇨🇳🇯🇵🇰🇷🇩🇪🇫🇷 🇪🇺 and a lone 🇦",
    "Keycaps: 1️⃣ 2️⃣ #️⃣ *️⃣ 🔟 and tags: 🏴󠁧󠁢󠁳󠁣󠁴󠁿 🏴󠁧󠁢󠁷󠁬󠁳󠁿",
    "Variation: ☺ ☺️ ✔ ✔️ ♥ ♥️ text vs emoji presentation",
    "emoji😀between😀letters and 123😀456 and 😀😀😀😀😀😀😀😀😀😀",
    "Symbols ☀☁☂☃★☆♠♣♥♦♩♪♫♬ ⌘⌥⇧⏎ ©®™ ℃℉ №",
)

# ---- numbers ------------------------------------------------------------------------------
digits = "12345678901234567890"
for k in range(1, 21):
    add(digits[:k])
    add("x" + digits[:k] + "y")
    add("n=" + "9" * k + ".")
add(
    "1,234,567.89 and 1.234.567,89 and 1 234 567",
    "-42 +42 ±3 3-4 4−5 10^6 2**10 1/3 0.333... 99.99% $1,000,000",
    "Phone +1 (555) 123-4567, date 2026-11-23T15:00:46Z, time 23:59:59.999",
    "Version 1.2.3-rc.4+build.567, IP 192.168.0.1, MAC 00:1A:2B:3C:4D:5E",
    "Full-width ０１２３４５６７８９, Arabic-Indic ٠١٢٣٤٥٦٧٨٩, Devanagari ०१२३",
    "Superscripts x²³ ¹⁰ fractions ½ ⅓ ¾ Roman Ⅻ ⅻ circled ① ⑳ ㊿",
    "中文数字：一二三四五六七八九十百千万亿，2024年12月31日",
    "pi=3.14159265358979323846264338327950288419716939937510582097494459",
)

# ---- white space --------------------------------------------------------------------------
for k in (1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 64):
    add("a" + " " * k + "b", " " * k, "x" + "\t" * k + "y", "\n" * k, "p" + "\n" * k + "q")
add(
    " \n \n ", "\t\n\t\n", " \t \t ", "\r\n\r\n\r\n", "\n \n  \n   \n",
    "word \n next", "word  \n\n  next", "end with newline\n", "end with spaces   ",
    "nbsp\u00a0between\u00a0\u00a0words", "ideographic\u3000space\u3000\u3000x",
    "thin\u2009space en\u2002space em\u2003space", "line\u2028separator\u2029paragraph",
    "vertical\u000btab form\u000cfeed", "zero\u200bwidth\u200cnon\u200djoiner",
    "soft\u00adhyphen and word\u2060joiner",
    "   \n\t  \r\n    \t\t\t   \n\n\n      ",
)

# ---- punctuation -----------------------------------------------------------------------------
add(
    "!!! ??? ... --- === +++ *** ### $$$ %%% ^^^ &&& ||| ~~~ ``` ''' \"\"\" ;;; ::: ,,,",
    "Wait... what?! No!!! Really??? Yes... -- maybe; perhaps: (or not).",
    "<<>> [[]] {{}} (()) <|> <| |> </ /> <!-- --> ${} #{} @{}",
    "«guillemets» „German“ ‚single‘ “English” ‘quotes’ 「CJK」 — – ‒ ‐ … · • ‣ ※",
    "Math: ∑∫∂∇ ≤≥≠≈ ±×÷ √∞ ∈∉⊂⊃ ∀∃ ¬∧∨ → ⇒ ↔ ⟨⟩ ⌈⌉ ⌊⌋",
    "Currency: $5 €5 £5 ¥5 ₹5 ₩5 ₽5 ₿5 ¢ ₫ ₴",
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "a!b\"c#d$e%f&g'h(i)j*k+l,m-n.o/p:q;r<s=t>u?v@w[x\\y]z^_`{|}~",
    "'''s ''t '''re ' s 'sss '''", "end.", ".start", "..", "?!", "-x", "_y_", "__init__",
    "。，、；：？！…—·「」『』（）《》〈〉【】",
    "ＡＢＣ！＂＃＄％＆＇（）＊＋，－．／：；＜＝＞？＠［＼］＾＿｀｛｜｝～",
)

# ---- special-token strings inside text -------------------------------------------------------
add(
    "<｜begin▁of▁sentence｜>Hello<｜end▁of▁sentence｜>",
    "<｜User｜>What is 2+2?<｜Assistant｜><think>\nSimple.\n</think>\n\n4<｜end▁of▁sentence｜>",
    "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
    "<｜fim▁begin｜>def f():<｜fim▁hole｜>\n    return 1<｜fim▁end｜>",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
    "<|endoftext|><|im_start|><|im_end|><|object_ref_start|><|box_end|><tool_call></tool_call><|fim_prefix|>",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    "<|reserved_special_token_0|> <|reserved_special_token_5|> <|reserved_special_token_250|> <|eom_id|> <|python_tag|>",
    "Partial specials: <|im_start <|im_end| <｜User <｜Assistant｜ <|begin_of_text| |> ｜> <think",
    "Specials glued:a<|im_end|>b<｜User｜>c<|eot_id|>d</think>e<think>f",
    "Nested <<|im_start|>> and <｜<｜User｜>｜> and <<think>>",
    "Spaces around: <|im_start|> user <|im_end|>  <｜User｜> hi <｜Assistant｜> ",
    "Case: <|IM_START|> <|Im_Start|> <THINK> <｜user｜>",
    "<think></think><think></think>",
)

# ---- long lines ------------------------------------------------------------------------------
rng = random.Random(20261123)
words = ("the of and to in is that for it as was with be by on not he this are or his from at "
         "which but have an they you were her she there been one all we their has would when "
         "if so no what up its out who them about more time can only other new some could "
         "these two may first then do any like my now over such our man me even most made "
         "after also did many before must through back years where much your way well down").split()
add(" ".join(rng.choice(words) for _ in range(1200)) + ".")
add("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 60)
add("a" * 3000, "ab" * 1500, "Aa" * 1000, "é" * 1000, "中" * 2000, "ア" * 1000, "한" * 1000)
add("1" * 2000, "1234567890" * 100, "." * 1000, "-" * 500 + ">" , "=" * 999, "!?" * 400)
add(" " * 2000 + "x", "\t" * 500, "\n" * 500, " \n" * 300, "x" + " " * 777)
add("😀" * 500, "👨‍👩‍👧‍👦" * 100, "🇺🇸" * 200)
b64 = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
              for _ in range(4000)) + "=="
add(b64)
add(" ".join("%02x" % rng.randrange(256) for _ in range(1500)))
add("/".join(rng.choice(words) for _ in range(300)) + "?x=" + "&".join(
    "%s=%d" % (rng.choice(words), rng.randrange(10 ** 6)) for _ in range(100)))
add("".join(rng.choice("中文字符测试深度求索日本語ひらがなカタカナ한국어") for _ in range(3000)))
add(("The year 2024 saw 12,345 models; 深度求索 released V3 (671B). " * 40).strip())

# ---- seeded random mixes -----------------------------------------------------------------------
ranges = [
    (0x20, 0x7E), (0xA0, 0x17F), (0x250, 0x2FF), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF),
    (0x530, 0x58F), (0x590, 0x5FF), (0x600, 0x6FF), (0x900, 0x97F), (0x980, 0x9FF), (0xE00, 0xE7F),
    (0x10A0, 0x10FF), (0x1100, 0x11FF), (0x1E00, 0x1FFF), (0x2000, 0x206F), (0x2070, 0x209F),
    (0x20A0, 0x20CF), (0x2100, 0x214F), (0x2150, 0x218F), (0x2190, 0x21FF), (0x2200, 0x22FF),
    (0x2460, 0x24FF), (0x2500, 0x257F), (0x25A0, 0x25FF), (0x2600, 0x26FF), (0x2700, 0x27BF),
    (0x3000, 0x303F), (0x3040, 0x309F), (0x30A0, 0x30FF), (0x3130, 0x318F), (0x3200, 0x32FF),
    (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xF900, 0xFAFF), (0xFB00, 0xFB4F), (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF), (0x1D400, 0x1D7FF), (0x1F300, 0x1F5FF), (0x1F600, 0x1F64F),
    (0x1F680, 0x1F6FF), (0x1F900, 0x1F9FF), (0x20000, 0x2A6DF), (0xE0020, 0xE007F),
]
excluded = {0x85, 0xFEFF, 0x180E}


def assigned(cp):
    if cp in excluded or 0xD800 <= cp < 0xE000:
        return False
    return unicodedata.category(chr(cp)) != "Cn"


pool = [cp for lo, hi in ranges for cp in range(lo, hi + 1) if assigned(cp)]
ascii_bias = [ord(c) for c in "  \n\t'sS0123456789aeiouAEIOU.,!?-_<>|"]
for i in range(800):
    n = rng.randint(1, 120)
    s = []
    for _ in range(n):
        r = rng.random()
        if r < 0.35:
            s.append(chr(rng.choice(ascii_bias)))
        elif r < 0.45:
            s.append(rng.choice(words) + " ")
        else:
            s.append(chr(rng.choice(pool)))
    add("".join(s))

# ---- divergent cases (reported, not required) ------------------------------------------------------
divergent = [
    "NEL\u0085line next\u0085\u0085x a\u0085 b \u0085\u0085 c\u0085\n",
    "BOM\ufeffinside \ufeff word\ufeff\ufeff a\ufeff b \ufeff\ufeff c\ufeff!",
    "Mongolian\u180evowel separator \u180e\u180e a\u180e b\u180e!",
    "Unicode 15 emoji: 🫨 🩷 🫎 🪽 and 15.1 ideograph 𮯰",
    "Unicode 16 letters: 𐵎𐵏 and Garay 𐵐𐵑",
]

assert all("\x00" not in s for s in cases), "cJSON strings cannot hold NUL"
with open(os.path.join(HERE, "corpus.json"), "w", encoding="utf-8") as f:
    json.dump(cases, f, ensure_ascii=False, indent=0)
    f.write("\n")
with open(os.path.join(HERE, "divergent.json"), "w", encoding="utf-8") as f:
    json.dump(divergent, f, ensure_ascii=False, indent=0)
    f.write("\n")
print("corpus: %d cases, %d characters; divergent: %d"
      % (len(cases), sum(len(s) for s in cases), len(divergent)))
