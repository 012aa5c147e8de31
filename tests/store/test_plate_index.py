"""Plate text for the indexes: query cleaning, patterns, trigrams, one-edit keys, the key in SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from safecity.analytics.plates.confusion import confusion_key, within_one_edit
from safecity.store.database import Database
from safecity.store.plate_index import (
    KEY_ALPHABET,
    clean_plate_query,
    keys_within_one_edit,
    like_pattern,
    literal_prefix,
    pattern_regex,
    pattern_trigrams,
    sql_confusion_key,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("bg 123-ab", "BG123AB"),
        ("BG.123.AB", "BG123AB"),
        ("bg**ab", "BG*AB"),
        ("?g12?ab", "?G12?AB"),
        ("ša 12-čć", "SA12CC"),
        ("đa 1-žš", "DA1ZS"),
    ],
)
def test_clean_plate_query_normalises(raw: str, clean: str) -> None:
    assert clean_plate_query(raw) == clean


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        (" - ", "empty"),
        ("BG%12", "contains '%'"),
        ("BG[12]", "contains '[]'"),
        ("B" * 33, "longer than 32"),
    ],
)
def test_clean_plate_query_rejects(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        clean_plate_query(raw)


@pytest.mark.parametrize(
    ("pattern", "plate", "matches"),
    [
        ("BG*AB", "BG123AB", True),
        ("BG*AB", "BGAB", True),
        ("BG*AB", "BG123AC", False),
        ("?G12?AB", "BG123AB", True),
        ("?G12?AB", "BG12AB", False),
        ("*123*", "KG1234CD", True),
    ],
)
def test_pattern_regex(pattern: str, plate: str, matches: bool) -> None:
    assert (pattern_regex(pattern).fullmatch(plate) is not None) is matches


@pytest.mark.parametrize(
    ("pattern", "trigrams"),
    [
        ("BG*AB", ("^BG", "AB$")),
        ("?G12?AB", ("G12", "AB$")),
        ("*123*", ("123",)),
        ("BG123AB", ("^BG", "BG1", "G12", "123", "23A", "3AB", "AB$")),
        ("B*", ()),
        ("*1?2*", ()),
    ],
)
def test_pattern_trigrams_use_anchors(pattern: str, trigrams: tuple[str, ...]) -> None:
    assert pattern_trigrams(pattern) == trigrams


def test_like_pattern_and_prefix() -> None:
    assert (like_pattern("?G*AB"), literal_prefix("BG1*A?"), literal_prefix("BG1")) == ("_G%AB", "BG1", "BG1")


@pytest.mark.parametrize(
    "other", ["BG123AB", "BG124AB", "BG12AB", "BG1234AB", "XBG123AB", "BG123A", "CG123AB"]
)
def test_keys_within_one_edit_contain_every_neighbour(other: str) -> None:
    assert confusion_key(other) in keys_within_one_edit(confusion_key("BG123AB"))


def test_keys_within_one_edit_are_all_one_edit_away() -> None:
    key = confusion_key("BG123AB")
    assert all(within_one_edit(key, k) for k in keys_within_one_edit(key))


def test_key_alphabet_holds_only_class_representatives() -> None:
    assert all(confusion_key(ch) == ch for ch in KEY_ALPHABET)


@pytest.mark.parametrize("plate", ["BG123AB", "8G12OAB", "NS-1234", "ŠA0QDLT", "Z2S5G6A4", "XYZ"])
def test_sql_confusion_key_equals_python(db: Database, plate: str) -> None:
    expr = sql_confusion_key(":plate", db.engine.dialect.name)
    with db.engine.connect() as conn:
        assert conn.execute(text(f"SELECT {expr}"), {"plate": plate}).scalar_one() == confusion_key(plate)


def test_sql_confusion_key_refuses_unknown_dialect() -> None:
    with pytest.raises(ValueError, match="mysql"):
        sql_confusion_key("normalised", "mysql")
