"""Test vectors of the search normaliser: text -> the words the index and the
queries use. Pure functions, no AWS."""
import pytest

from chalicelib.social.normalize import WORD_CHARS_MAX, fold, words


@pytest.fixture(autouse=True)
def aws():
    """Pure functions: no moto stack needed (overrides the suite's autouse fixture)."""
    yield

ZWNJ = "\u200c"

VECTORS = [
    # --- Latin: case, diacritics, ligatures, compatibility forms
    ("Café", ["cafe"]),
    ("CAFÉ café Cafe", ["cafe"]),
    ("naïve résumé", ["naive", "resume"]),
    ("Straße STRASSE", ["strasse"]),
    ("Ångström", ["angstrom"]),
    ("İstanbul", ["istanbul"]),
    ("ﬁle ﬂock", ["file", "flock"]),               # ligatures are letters
    ("ＦＬＯＣＫ", ["flock"]),                        # full-width
    ("e\u0301cole", ["ecole"]),                     # combining acute, decomposed input
    # --- other scripts
    ("ΟΔΟΣ οδός", ["οδοσ"]),                        # final sigma and tonos fold
    ("Ёлка ёлка", ["елка"]),
    ("שָׁלוֹם", ["שלום"]),                            # niqqud dropped
    ("가나다", ["가나다"]),                          # Hangul survives decomposition
    # --- Arabic / Persian letter variants are one letter
    ("كتاب", ["کتاب"]),                             # Arabic kaf -> keheh
    ("علي", ["علی"]),                               # Arabic yeh -> Persian yeh
    ("مصطفى", ["مصطفی"]),                           # alef maksura
    ("مدرسة", ["مدرسه"]),                           # teh marbuta -> heh
    ("أحمد إحمد آحمد احمد", ["احمد"]),              # hamza/madda on alef
    ("ٱلكتاب", ["الکتاب"]),                         # alef wasla
    ("خانۀ خانهٔ", ["خانه"]),                        # heh with hamza, precomposed or not
    # --- tatweel and tashkeel are ignored
    ("کـــتاب", ["کتاب"]),
    ("كِتَابٌ", ["کتاب"]),
    ("مُحَمَّد", ["محمد"]),
    ("الرَّحْمٰنِ", ["الرحمن"]),                      # superscript alef
    # --- ZWNJ (and other invisible format characters) join, never split
    ("می" + ZWNJ + "خواهم", ["میخواهم"]),
    ("میخواهم", ["میخواهم"]),
    ("co\u00adoperate", ["cooperate"]),            # soft hyphen
    # --- presentation forms are the letters they show
    ("ﻛﺘﺎﺏ", ["کتاب"]),
    ("ﻻ", ["لا"]),
    ("ﻋﻠﻲ", ["علی"]),
    # --- digits: Persian and Arabic-Indic are ASCII
    ("۱۴۰۲", ["1402"]),
    ("٢٠٢٤", ["2024"]),
    ("۱٢3", ["123"]),
    ("قیمت۱۰۰", ["قیمت100"]),
    # --- mixed scripts
    ("Hello سلام world", ["hello", "سلام", "world"]),
    ("Flock فلاک ۲۰۲۴", ["flock", "فلاک", "2024"]),
    # --- emoji are never words and separate words
    ("I ❤️ Tehran 🇮🇷", ["i", "tehran"]),
    ("🔥🔥🔥", []),
    ("👨\u200d👩\u200d👧 family", ["family"]),
    ("pizza🍕party", ["pizza", "party"]),
    ("👍🏽 ok", ["ok"]),
    ("3️⃣ things", ["things"]),                      # a keycap is an emoji, not the digit
    # --- punctuation and symbols are never words
    ("hello, world!", ["hello", "world"]),
    ("«سلام»، دنیا؟", ["سلام", "دنیا"]),
    ("#tag @user", ["tag", "user"]),
    ("Flock™ rocks", ["flock", "rocks"]),
    ("Ⓐ ⓑ", []),
    ("...!!! ???", []),
    ("", []),
    ("   \n\t ", []),
    # --- distinct words, in order of first appearance
    ("the cat the hat", ["the", "cat", "hat"]),
]


@pytest.mark.parametrize("text,expected", VECTORS, ids=[repr(t)[:30] for t, _ in VECTORS])
def test_words(text, expected):
    assert words(text) == expected


EQUIVALENT = [
    ("كتاب", "کتاب"), ("يك", "یک"), ("مدرسة", "مدرسه"), ("أمير", "امیر"), ("إيران", "ایران"),
    ("آب", "اب"), ("کـتـاب", "کتاب"), ("كُتُب", "کتب"), ("نمی" + ZWNJ + "شود", "نمیشود"),
    ("۱۲۳", "123"), ("١٢٣", "123"), ("Résumé", "resume"), ("ÜBER", "uber"),
]


@pytest.mark.parametrize("a,b", EQUIVALENT)
def test_variants_fold_to_the_same_word(a, b):
    assert words(a) == words(b) and words(a)


def test_fold_keeps_separators():
    assert fold("Café, كتاب!") == "cafe, کتاب!"


def test_a_word_is_bounded():
    long_word = "a" * 500
    assert words(long_word) == ["a" * WORD_CHARS_MAX]


def test_every_distinct_word_of_a_full_post_is_kept():
    # 70 distinct words in 270 characters: a legal post, every word searchable.
    text = " ".join(f"w{i}" for i in range(1, 71))
    assert len(text) <= 280
    assert words(text) == [f"w{i}" for i in range(1, 71)]
