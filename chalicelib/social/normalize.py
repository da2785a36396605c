"""Text -> search words, the same way for the index and for queries.

Rules (test vectors in tests/unit/test_normalize.py):
- compatibility decomposition (NFKD), then every combining mark is dropped:
  Latin diacritics (é -> e), Arabic tashkeel (fatha, kasra, shadda, ...),
  the hamza and madda that decompose off alef (أ إ آ -> ا);
- case folded (Straße -> strasse);
- Arabic and Persian variants are one letter: ي ى -> ی, ك -> ک, ة -> ه, ٱ -> ا,
  ۀ -> ه (as its decomposed spelling ه + hamza gives); tatweel (ـ) is dropped;
- ZWNJ, ZWJ and the other invisible format characters (soft hyphen, bidi
  marks) join: "می‌خواهم" and "میخواهم" are the same word;
- Persian (۰-۹) and Arabic-Indic (٠-٩) digits are ASCII digits;
- a word is a run of letters and digits; punctuation, symbols and emoji
  separate words and are never words — decided on the character as written,
  so a symbol whose compatibility form has letters (™ -> TM, Ⓐ -> A) or a
  keycap emoji (3️⃣) is no word either.
"""
import re
import unicodedata

WORD_CHARS_MAX = 64
WORDS_MAX = 140  # as many as a 280-character post can hold: every word of a post is indexed

_LETTERS = {
    "\u064a": "\u06cc",  # ي Arabic yeh -> ی Persian yeh
    "\u0649": "\u06cc",  # ى alef maksura -> ی
    "\u0643": "\u06a9",  # ك Arabic kaf -> ک keheh
    "\u0629": "\u0647",  # ة teh marbuta -> ه heh
    "\u0671": "\u0627",  # ٱ alef wasla -> ا
    "\u0640": None,      # tatweel
    "\u200c": None,      # ZWNJ joins
    "\u200d": None,      # ZWJ joins
}
_BEFORE = str.maketrans({"\u06c0": "\u0647"})  # ۀ decomposes to ە + hamza, not to ه + hamza
_KEYCAP = re.compile("[0-9#*]\ufe0f?\u20e3")
_DIGITS = {0x06F0 + i: str(i) for i in range(10)} | {0x0660 + i: str(i) for i in range(10)}
_TABLE = str.maketrans({**{ord(k): v for k, v in _LETTERS.items()}, **_DIGITS})


def _invisible(char: str) -> bool:
    """A combining mark or a format character (ZWNJ, ZWJ, soft hyphen, bidi marks)."""
    category = unicodedata.category(char)
    return category[0] == "M" or category == "Cf"


def _wordish(char: str) -> bool:
    """As written: a letter or digit, or an invisible that joins them."""
    return unicodedata.category(char)[0] in "LN" or _invisible(char)


def fold(text: str) -> str:
    """The normalised form of `text`, separators kept."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_BEFORE))
    stripped = "".join(c for c in decomposed if not _invisible(c))
    return unicodedata.normalize("NFC", stripped.casefold().translate(_TABLE))


def words(text: str) -> list[str]:
    """The distinct words of `text`, in order of first appearance, bounded."""
    found: list[str] = []
    current: list[str] = []
    written = "".join(c if _wordish(c) else " " for c in _KEYCAP.sub(" ", text))
    for char in fold(written) + " ":
        if unicodedata.category(char)[0] in ("L", "N"):
            current.append(char)
            continue
        if current:
            word = "".join(current)[:WORD_CHARS_MAX]
            if word not in found:
                found.append(word)
                if len(found) >= WORDS_MAX:
                    return found
            current = []
    return found
