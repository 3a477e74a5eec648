"""The data sets: exact contents, held-out splits disjoint from training, files and vocabulary."""

from __future__ import annotations

import datetime as dt

import pytest
from zoo_seq2seq.config import Seq2SeqConfig
from zoo_seq2seq.data import (
    ANTONYMS,
    DATE_FORMATS,
    EOS,
    Vocab,
    human_date,
    load_pairs,
    read_tsv,
    split_file_pairs,
)

from zoo import ZooError


def test_antonyms_are_the_six_classic_pairs_evaluated_on_training() -> None:
    pairs = load_pairs(Seq2SeqConfig(data="antonyms"), seed=0)
    assert dict(pairs.train) == {
        "man": "women", "black": "white", "king": "queen", "girl": "boy", "up": "down", "high": "low",
    }
    assert pairs.held_out == pairs.train and pairs.evaluated_on_train


@pytest.mark.parametrize("data", ["reverse", "addition", "dates"])
def test_generated_held_out_split_shares_nothing_with_training(data: str) -> None:
    config = Seq2SeqConfig(data=data, examples=3000, held_out=300)
    pairs = load_pairs(config, seed=1)
    assert len(pairs.held_out) == 300 and len(pairs.train) == 3000
    train_sources = {s for s, _ in pairs.train}
    assert len(train_sources) == len(pairs.train)
    assert not train_sources & {s for s, _ in pairs.held_out}
    if data == "dates":  # stricter: no held-out *date* is seen in training in any format
        assert not {t for _, t in pairs.train} & {t for _, t in pairs.held_out}
    assert load_pairs(config, seed=1) == pairs
    assert load_pairs(config, seed=2) != pairs


def test_generated_pairs_are_correct() -> None:
    for source, target in load_pairs(Seq2SeqConfig(data="addition", digits=3), 0).train[:500]:
        a, b = source.split("+")
        assert int(target) == int(a) + int(b) and max(len(a), len(b)) <= 3
    for source, target in load_pairs(Seq2SeqConfig(data="reverse", min_chars=3, max_chars=5), 0).train[:500]:
        assert target == source[::-1] and 3 <= len(source) <= 5 and source.isalpha()
    for source, target in load_pairs(Seq2SeqConfig(data="dates"), 0).train[:500]:
        day = dt.date.fromisoformat(target)
        assert str(day.day) in source and f"{day.year % 100:02d}" in source


def test_held_out_split_is_not_biased_towards_the_small_corners() -> None:
    """One-digit sums are few (100) and drawn often: they must not pile up in the held-out set
    (where the model would be tested on sums it never trained on)."""
    pairs = load_pairs(Seq2SeqConfig(data="addition", examples=3000, held_out=300), seed=0)

    def one_digit_share(part: list[tuple[str, str]]) -> float:
        return sum(len(s) == 3 for s, _ in part) / len(part)

    assert one_digit_share(pairs.held_out) < 2 * one_digit_share(pairs.train) + 0.02


def test_dates_are_written_in_the_issues_formats() -> None:
    day = dt.date(2026, 11, 23)
    written = {human_date(day, i) for i in range(len(DATE_FORMATS))}
    for text in ("November 23, 2026", "23/11/2026", "Mon 23 Nov 26"):
        assert (text, "2026-11-23") in written
    assert len(written) == len(DATE_FORMATS)


def test_tiny_space_shrinks_training_not_correctness() -> None:
    pairs = load_pairs(Seq2SeqConfig(data="addition", digits=1, examples=1000, held_out=100), 0)
    every = pairs.train + pairs.held_out
    assert len({s for s, _ in every}) == len(every) == 100  # all 10 x 10 one-digit sums, once each
    assert 0 < len(pairs.held_out) <= 20


def test_tsv_file_pairs_and_errors(tmp_path) -> None:
    good = tmp_path / "pairs.tsv"
    good.write_text("hello\tolleh\n\nab\tba\n", encoding="utf-8")
    assert read_tsv(good) == [("hello", "olleh"), ("ab", "ba")]
    small = load_pairs(Seq2SeqConfig(data=str(good)), 0)
    assert small.evaluated_on_train and small.held_out == small.train
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\nno tab here\n", encoding="utf-8")
    with pytest.raises(ZooError, match=r"bad.tsv:2: expected 'source<TAB>target'"):
        read_tsv(bad)
    with pytest.raises(ZooError, match="not a built-in set"):
        load_pairs(Seq2SeqConfig(data=str(tmp_path / "missing.tsv")), 0)


def test_large_file_holds_out_whole_sources() -> None:
    pairs = [(f"w{i % 50}", f"t{i}") for i in range(200)]  # each source appears 4 times
    split = split_file_pairs(pairs, 0.1, 0)
    assert not split.evaluated_on_train
    assert len({s for s, _ in split.held_out}) == 5
    assert not {s for s, _ in split.train} & {s for s, _ in split.held_out}
    assert len(split.train) + len(split.held_out) == 200


def test_vocab_round_trip_and_unknown_characters() -> None:
    vocab = Vocab.from_pairs(ANTONYMS)
    assert vocab.decode([*vocab.encode("queen"), EOS, *vocab.encode("x" if "x" in vocab.index else "q")]) == "queen"
    with pytest.raises(ZooError, match=r"outside the model's vocabulary: '1', 'Z'"):
        vocab.encode("kZng1")


def test_a_tsv_file_is_a_packed_table_split_by_whole_sources(tmp_path) -> None:
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"s{i % 300}\tt{i}\n" for i in range(3000)), encoding="utf-8")  # 10 lines per source
    pairs = load_pairs(Seq2SeqConfig(data=str(path), held_out_fraction=0.1), seed=0)
    train, held = set(pairs.train), set(pairs.held_out)
    assert len(train) + len(held) == 3000 and not train & held
    assert len({s for s, _ in held}) == 30  # 10% of the 300 distinct sources, each whole
    assert not {s for s, _ in train} & {s for s, _ in held}
    again = load_pairs(Seq2SeqConfig(data=str(path), held_out_fraction=0.1), seed=0)
    assert list(again.held_out) == list(pairs.held_out) and pairs.digest() == again.digest()
    other = load_pairs(Seq2SeqConfig(data=str(path), held_out_fraction=0.1), seed=1)
    assert set(other.held_out) != held and other.digest() != pairs.digest()


def test_a_file_with_one_source_is_evaluated_on_training(tmp_path) -> None:
    path = tmp_path / "same.tsv"
    path.write_text("".join(f"x\tt{i}\n" for i in range(40)), encoding="utf-8")
    pairs = load_pairs(Seq2SeqConfig(data=str(path)), seed=0)
    assert pairs.evaluated_on_train and len(pairs.train) == len(pairs.held_out) == 40
