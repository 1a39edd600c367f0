"""The input texts of the tokenizer goldens (tests/fixtures/tokenizers/*.jsonl).

cases(eval_text) -> list of str: hand-written edge cases, generated whitespace/digit runs, and
deterministic excerpts of resources/demo-model/evaluation.txt. No randomness.
"""

HAND = [
    # English prose, contractions, casing
    "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.",
    "In the beginning God created the heaven and the earth.",
    "The quick brown fox jumps over the lazy dog.",
    "Hello world",
    "Hello, world!",
    "hello World HELLO wORLD",
    "I'm sure they'll say we'd've done it, but she's not, and you're right: it's John's.",
    "DON'T SHOUT, I'M LISTENING. YOU'LL SEE. WE'VE GOT IT. HE'D KNOW.",
    "'Tis the season; o'clock; rock 'n' roll; O'Brien's books; the students' essays.",
    "\"Quoted text,\" she said. 'Single quotes' too.",
    "Mr. and Mrs. Bennet lived at Longbourn; Mr. Darcy at Pemberley.",
    "e.g. i.e. etc. vs. Dr. St. No. 5",
    "A sentence without a final full stop",
    "ALL CAPS HEADLINE ABOUT THE ECONOMY",
    "camelCaseIdentifier snake_case_identifier kebab-case-identifier SCREAMING_SNAKE",
    # digits
    "0", "7", "42", "123", "1234", "12345", "1234567890", "3.14159265358979",
    "1,000,000 and 1.000.000 and 1 000 000",
    "In 1611, 47 translators worked for 7 years; 2026-11-23T04:22:50Z.",
    "Call +44 (0)20 7946 0958 or 555-0199 ext. 12.",
    "x=42; y=-7; z=x*y+0.5e-3; n += 1",
    "v1.2.3-rc.4+build.567",
    "٣٤٥ ١٢ ۱۲۳ १२३ 一二三 ①②③ Ⅻ ½ ¾ 10⁻³ x²",
    "$100.00 £50 €20,50 ¥1000 ₹500 ₿0.001 100%",
    # whitespace
    " leading space",
    "  two leading spaces",
    "trailing space ",
    "trailing spaces   ",
    "a  b   c    d     e",
    "\ttab at start",
    "tabs\tbetween\t\twords",
    "line one\nline two",
    "line one\n\nline three after a blank line",
    "\n",
    "\n\n",
    "\n\n\n\n",
    " ",
    "   ",
    "\t",
    " \t \n \r\n ",
    "windows\r\nline\r\nendings\r\n",
    "mixed \t\n\t whitespace \n\n  run",
    "paragraph one.\n\n\nParagraph two, after two blank lines.\n",
    "    indented code line\n        more indented\n",
    "word\u00a0with\u00a0no-break\u00a0spaces",
    "zero\u200bwidth\u200bspace",
    "ideographic\u3000space",
    "line\u2028separator and paragraph\u2029separator",
    "em\u2003space and thin\u2009space",
    "\ufeffbyte order mark at the start",
    "",
    # accents and other scripts
    "café naïve résumé façade coöperate",
    "Ångström Zürich São Paulo Dvořák Łódź Þingvellir straße",
    "e\u0301 (decomposed é) vs \u00e9 (composed é)",
    "ﬁne ﬂour, Ǆ digraph, ǅ titlecase, Ⅳ roman",
    "Ελληνικά: Καλημέρα κόσμε",
    "Русский текст: Привет, мир!",
    "العربية: مرحبا بالعالم",
    "עברית: שלום עולם",
    "हिन्दी: नमस्ते दुनिया",
    "ภาษาไทย: สวัสดีชาวโลก",
    "Tiếng Việt: Xin chào thế giới",
    "Türkçe: İstanbul'da ılık bir gün",
    # CJK
    "你好，世界！",
    "我爱自然语言处理。",
    "日本語のテキストです。カタカナ、ひらがな、漢字。",
    "한국어 문장입니다.",
    "中文English混合text测试123",
    "「引用」『二重』【括弧】",
    # emoji
    "👍",
    "I love it 😍😍😍!",
    "family: 👨‍👩‍👧‍👦 flag: 🇬🇧 heart: ❤️ skin tone: 👋🏽",
    "emoji🙂inside🙂words",
    "🚀 launch at 10:00 🕙",
    "∀x∈ℝ: x²≥0 ⇒ √(x²)=|x| ∑∏∫ ≠ ≈ ∞",
    "♠♣♥♦ ★☆ ✓✗ ← → ↑ ↓",
    # punctuation and code
    "Wait... what?! Really?!?",
    "!!!",
    "...",
    "—",
    "dash – en — em - hyphen",
    "“Curly double” and ‘curly single’ quotes",
    "(parentheses) [brackets] {braces} <angles>",
    "#include <vector>\nint main() { return 0; }",
    "def f(x):\n    return x ** 2  # square\n",
    "for (int i = 0; i < n; ++i) { a[i] += b[i]; }",
    "if (a->b != nullptr && c::d) std::cout << \"ok\\n\";",
    "{\"key\": [1, 2.5, null, true], \"nested\": {\"a\": \"b\"}}",
    "https://example.org/path/to/page?query=1&lang=en#section",
    "user.name+tag@example.com",
    "C:\\Program Files\\QuantScope\\bin",
    "/usr/share/quantscope/demo-model/config.json",
    "<html><body><p class=\"x\">Hi</p></body></html>",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "**bold** _italic_ `code` ~~strike~~",
    "@@ -1,3 +1,4 @@",
    "a_b-c.d/e\\f:g;h,i!j?k",
    "'''triple''' \"\"\"quotes\"\"\"",
    "----------",
    "==========",
    "__init__ __main__",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "abababababababababababab",
    "thethethethethethe",
    "ÀÀÀÀÀÀÀÀ",
    "ＦＵＬＬＷＩＤＴＨ ｆｕｌｌｗｉｄｔｈ １２３",
    # special tokens inline
    "<s>",
    "</s>",
    "<unk>",
    "<pad>",
    "<s>Hello world</s>",
    "<s> Hello world </s>",
    "Hello<s>world",
    "Hello </s><s> again",
    "text with <unk> inside",
    "<s><s></s></s>",
    "< s> <s > </ s> <\\s> <S> <s",
    "<|begin_of_text|>Hello<|end_of_text|>",
    "<|begin_of_text|> spaced <|end_of_text|>",
    "not special: <|begin of text|> <|end_of_text",
    "\n<s>\n</s>\n",
]


def _generated():
    out = []
    for n in range(1, 9):
        out.append(" " * n + "x")
        out.append("x" + " " * n + "y")
        out.append("x" + "\n" * n)
        out.append("\t" * n + "y")
    for n in range(1, 13):
        out.append("".join(str((i * 7 + 3) % 10) for i in range(n)))
    for w in ["the", "The", "THE", " the", "of", "and", "unto", "Elizabeth", "Darcy", "Jesus"]:
        out.append(w)
    return out


def _excerpts(text):
    out = []
    lines = [l for l in text.split("\n") if l.strip()]
    step = max(1, len(lines) // 100)
    for i in range(0, len(lines), step):
        out.append(lines[i][:300])
        if len(out) >= 100:
            break
    # multi-line chunks, cut at fixed byte positions (whitespace runs included)
    for k in range(40):
        start = (k * 5711) % max(1, len(text) - 600)
        out.append(text[start : start + 80 + (k * 37) % 400])
    return out


def cases(eval_text):
    return HAND + _generated() + _excerpts(eval_text)
