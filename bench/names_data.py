"""Build the names task's bundled surname list (plugins/names/zoo_names/data/names.tsv) from faker.

faker (MIT) ships per-locale surname lists. This script reads them, romanises the lists written in
other scripts (Greek, Russian, Korean), folds accents to ASCII as the PyTorch tutorial does, adds
short lists where faker has none or few (Scottish; Vietnamese has only ten; Russian has no
adjectival -sky names), resolves names listed under
more than one language, and writes ``name<TAB>Language`` lines sorted by language and name.
faker is needed only here, at build time; the plugin reads the written file and never imports it.

    pip install faker && python bench/names_data.py          # rewrites the bundled file
    python bench/names_data.py --counts                       # print per-language counts only
"""

from __future__ import annotations

import argparse
import importlib
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "plugins" / "names" / "zoo_names" / "data" / "names.tsv"

# language -> (faker locale, attribute) lists whose union is the language's surnames
SOURCES: dict[str, list[tuple[str, str]]] = {
    "Arabic": [("fr_DZ", "last_names")],  # Algerian surnames in their usual French-style Latin spelling
    "Chinese": [("zh_CN", "last_romanized_names"), ("zh_TW", "last_romanized_names")],  # pinyin, Wade-Giles
    "Czech": [("cs_CZ", "last_names"), ("cs_CZ", "last_names_female")],
    "Dutch": [("nl_NL", "last_names")],
    "English": [("en_US", "last_names"), ("en_GB", "last_names")],
    "French": [("fr_FR", "last_names")],
    "German": [("de_DE", "last_names")],
    "Greek": [("el_GR", "last_names")],  # Greek script, romanised below
    "Irish": [("ga_IE", "last_names")],  # Irish-language forms (O Briain, Mac Carthaigh)
    "Italian": [("it_IT", "last_names")],
    "Japanese": [("ja_JP", "last_romanized_names")],  # Hepburn without long-vowel marks
    "Korean": [("ko_KR", "last_names")],  # Hangul, romanised below (two spellings each)
    "Polish": [("pl_PL", "male_last_names"), ("pl_PL", "unisex_last_names")],
    "Portuguese": [("pt_PT", "last_names"), ("pt_BR", "last_names")],
    "Russian": [("ru_RU", "last_names")],  # Cyrillic, romanised below
    "Scottish": [],
    "Spanish": [("es_ES", "last_names")],
    "Vietnamese": [("vi_VN", "last_names")],
}

# Common Scottish surnames (faker has no Scottish list); a name list is a set of facts.
SCOTTISH = """
Baird Boyd Buchanan Cameron Campbell Colquhoun Crawford Cunningham Dalziel Douglas Drummond Dunbar
Erskine Farquhar Farquharson Ferguson Fleming Forbes Fraser Galbraith Gillespie Gordon Graham Grant
Gunn Haig Hamilton Henderson Innes Irvine Johnston Keith Kennedy Kerr Kincaid Kinnaird Laird Lamont
Leslie Lindsay Lockhart MacAlister MacAulay MacBain MacDonald MacDougall MacDuff MacEwan MacFarlane
MacGillivray MacGregor MacInnes MacIntosh MacIntyre MacIver MacKay MacKenzie MacKinnon MacLachlan
MacLaren MacLean MacLennan MacLeod MacMillan MacNab MacNaughton MacNeil MacPherson MacQuarrie MacRae
Mackie McAllister McCulloch McDonald McGregor McIntosh McKay McKenzie McLean McLeod McPherson
Menzies Moncrieff Montgomery Morrison Muir Munro Murray Napier Ogilvie Ramsay Rankin Robertson Ross
Scott Shaw Sinclair Skene Stewart Sutherland Tait Urquhart Wallace Wemyss Wishart
"""

# faker's Russian list holds only -ov/-ev/-in names; these adjectival surnames (customary English
# spelling) fill the gap. "Dostoevsky", the task's example, is deliberately not among them.
RUSSIAN_EXTRA = """
Belinsky Bryansky Chaikovsky Dobrovolsky Dubrovsky Gorodetsky Kandinsky Kovalevsky Kozlovsky
Krasnovsky Lebedinsky Lisitsky Malinovsky Mayakovsky Meshchersky Mussorgsky Obolensky Ostrovsky
Pokrovsky Polyansky Preobrazhensky Rimsky Rozhdestvensky Savinsky Smolensky Sokolovsky
Stanislavsky Stravinsky Tchaikovsky Uspensky Vasilevsky Vernadsky Volkonsky Voznesensky Vysotsky
Yavlinsky Zhukovsky Ostrovskaya Pokrovskaya Uspenskaya Volkonskaya Zhukovskaya Obolenskaya
Trubetskoy Tolstoy Dolgorukov
"""

# Vietnamese surnames beyond faker's ten (without tone marks, as the tutorial writes them).
VIETNAMESE = """
Au Bach Banh Bui Cao Chau Chu Dam Dang Diep Dinh Do Doan Duong Giang Ha Hoang Ho Huynh Khuc Kieu
Lac Lai Le Luong Luu Ly Mai Ngo Nghiem Nguyen Nong Pham Phan Phi Phung Quach Ta Tang Thach Thai
Thieu Tieu Ton Tong Tran Trieu Trinh Truong Ung Vo Vu Vuong
"""

GREEK = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i",
    "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p", "ρ": "r", "σ": "s",
    "ς": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o",
}
GREEK_PAIRS = {"ου": "ou", "αυ": "av", "ευ": "ev", "γγ": "ng", "γκ": "gk", "μπ": "mp", "ντ": "nt"}

RUSSIAN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}

# Revised Romanization of Hangul syllables: initial, vowel and final jamo in Unicode order.
RR_INITIAL = "g kk n d tt r m b pp s ss - j jj ch k t p h".split()
RR_VOWEL = "a ae ya yae eo e yeo ye o wa wae oe yo u wo we wi yu eu ui i".split()
RR_FINAL = "- k k k n n n t l k m l l l p l m p p t t ng t t k t p t".split()
# The spellings Korean families usually use in passports, which differ from Revised Romanization.
KOREAN_CUSTOMARY = {
    "김": "Kim", "이": "Lee", "박": "Park", "정": "Jung", "최": "Choi", "조": "Cho", "강": "Kang",
    "윤": "Yoon", "장": "Chang", "임": "Lim", "한": "Han", "오": "Oh", "서": "Suh", "신": "Shin",
    "권": "Kwon", "황": "Hwang", "안": "Ahn", "송": "Song", "류": "Ryu", "전": "Jeon", "홍": "Hong",
    "고": "Ko", "문": "Moon", "양": "Yang", "손": "Sohn", "배": "Bae", "백": "Baek", "허": "Huh",
    "유": "Yoo", "남": "Nam", "심": "Shim", "노": "Roh", "하": "Ha", "곽": "Kwak", "성": "Sung",
    "차": "Cha", "주": "Joo", "우": "Woo", "구": "Koo", "나": "Na", "민": "Min", "진": "Jin",
    "지": "Ji", "엄": "Eom",
}

SPECIAL = {"ł": "l", "Ł": "L", "ß": "ss", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "æ": "ae", "œ": "oe", "’": "'"}
ALLOWED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ '-")


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def greek(name: str) -> str:
    text = strip_accents(name).lower()
    for pair, latin in GREEK_PAIRS.items():
        text = text.replace(pair, latin)
    return "".join(GREEK.get(c, c) for c in text)


def russian(name: str) -> str:
    """BGN/PCGN letters, with the usual English spelling of the adjectival endings of surnames:
    -ский/-цкий/-ый -> -sky/-tsky/-y (Dostoevsky, not Dostoevskiy)."""
    text = name.lower()
    for ending in ("ий", "ый"):
        if text.endswith(ending):
            text = text[: -len(ending)] + "y"
    return "".join(RUSSIAN.get(c, c) for c in text)


def revised_romanization(syllables: str) -> str:
    out = []
    for ch in syllables:
        code = ord(ch) - 0xAC00
        parts = (RR_INITIAL[code // 588], RR_VOWEL[code % 588 // 28], RR_FINAL[code % 28])
        out.append("".join(p for p in parts if p != "-"))
    return "".join(out)


def ascii_name(name: str) -> str:
    """Accents folded (Dvořák -> Dvorak); the few letters without a decomposition mapped by hand."""
    return strip_accents("".join(SPECIAL.get(c, c) for c in name)).strip()


def capitalise(name: str) -> str:
    return name[:1].upper() + name[1:]


def collect() -> dict[str, set[str]]:
    """Language -> ASCII surnames, before cross-language resolution."""
    out: dict[str, set[str]] = {}
    for language, sources in SOURCES.items():
        names: set[str] = set()
        for locale, attribute in sources:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
            for raw in getattr(provider, attribute):
                if language == "Greek":
                    names.add(capitalise(greek(raw)))
                elif language == "Russian":
                    names.add(capitalise(russian(raw)))
                elif language == "Korean":
                    names.add(KOREAN_CUSTOMARY[raw])
                    names.add(capitalise(revised_romanization(raw)))
                elif language == "Chinese":
                    names.add(raw.title())
                else:
                    names.add(raw)
        extra = {"Scottish": SCOTTISH, "Vietnamese": VIETNAMESE, "Russian": RUSSIAN_EXTRA}.get(language, "")
        names.update(extra.split())
        out[language] = {ascii_name(n) for n in names}
    return out


def resolve(names: dict[str, set[str]]) -> tuple[dict[str, set[str]], int, int]:
    """A name under English and one other language goes to the other one (the US and UK lists
    hold many immigrant surnames); a name under two or more other languages is dropped.
    Names with characters outside letters, space, apostrophe and hyphen are dropped too."""
    owners: dict[str, list[str]] = {}
    for language, group in names.items():
        for name in group:
            owners.setdefault(name, []).append(language)
    out: dict[str, set[str]] = {language: set() for language in names}
    dropped = odd = 0
    for name, langs in owners.items():
        if not name or not set(name) <= ALLOWED:
            odd += 1
            continue
        others = [lang for lang in langs if lang != "English"]
        if len(others) > 1:
            dropped += 1
            continue
        out[(others or langs)[0]].add(name)
    return out, dropped, odd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", action="store_true", help="print the per-language counts only")
    args = parser.parse_args(argv)
    names, dropped, odd = resolve(collect())
    for language, group in names.items():
        print(f"{language}\t{len(group)}")
    print(f"total\t{sum(map(len, names.values()))}\t(dropped: {dropped} under several languages, {odd} odd characters)")
    if not args.counts:
        lines = [f"{name}\t{language}" for language in sorted(names) for name in sorted(names[language])]
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
