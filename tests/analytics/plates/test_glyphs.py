"""Dropping characters that no character ink backs: ends (bands, shields) and one between groups.

A band or emblem read as a character is read with doubt; a plate's own character is read with near
certainty even where its ink looks wrong in the crop (a frame touching it, a thin font). Characters
at least as sure as the limit are never dropped (on US close-ups `251RGF` became `251RG` and
`209JVC` became `209JC` when ink alone decided).
"""

from __future__ import annotations

import pytest

from safecity.analytics.plates.glyphs import InkCheck, drop_emblem, trim_unbacked
from safecity.analytics.plates.ocr import Glyph


def _glyphs(text: str, probabilities: list[float]) -> tuple[Glyph, ...]:
    return tuple(
        Glyph(ch, p, 10.0 * i, 10.0 * i + 8.0)
        for i, (ch, p) in enumerate(zip(text, probabilities, strict=True))
    )


def _text(glyphs: tuple[Glyph, ...]) -> str:
    return "".join(g.char for g in glyphs)


@pytest.mark.parametrize(
    ("text", "probabilities", "supported", "limit", "expected"),
    [
        # A doubtful band letter before the registration goes.
        ("EPD935BG", [0.65, 1, 1, 1, 1, 1, 1, 1], [False, *[True] * 7], 0.99, "PD935BG"),
        # A sure character at the end stays, however its ink looks.
        ("251RGF", [1, 1, 1, 1, 1, 0.995], [*[True] * 5, False], 0.99, "251RGF"),
        # With the limit at 1, ink alone decides.
        ("251RGF", [1, 1, 1, 1, 1, 0.995], [*[True] * 5, False], 1.0, "251RG"),
        # At most max_trim (2) from each end.
        ("XYZ123AB", [0.5, 0.5, 0.5, 1, 1, 1, 1, 1], [False, False, False, *[True] * 5], 0.99, "Z123AB"),
    ],
)
def test_trim_unbacked_drops_only_doubtful_end_characters(
    text: str, probabilities: list[float], supported: list[bool], limit: float, expected: str
) -> None:
    glyphs = _glyphs(text, probabilities)
    check = InkCheck(tuple(supported), dark_on_light=True)
    assert _text(trim_unbacked(glyphs, check, 2, limit)) == expected


def test_trim_unbacked_keeps_everything_when_the_check_is_unreliable() -> None:
    glyphs = _glyphs("ABC123", [0.3] * 6)
    check = InkCheck((False, False, False, False, True, True), dark_on_light=True)
    assert _text(trim_unbacked(glyphs, check, 2, 0.99)) == "ABC123"


@pytest.mark.parametrize(
    ("probability", "limit", "expected", "coloured"),
    [
        (0.55, 0.99, "ZG1234AB", True),  # a coat of arms between the groups, read with doubt
        (0.99, 0.99, "ZG1Q234AB", False),  # a sure character is a character
        (0.995, 1.0, "ZG1234AB", True),  # ink alone decides at limit 1
    ],
)
def test_drop_emblem_drops_one_doubtful_character_between_backed_ones(
    probability: float, limit: float, expected: str, coloured: bool
) -> None:
    glyphs = _glyphs("ZG1Q234AB", [1, 1, 1, probability, 1, 1, 1, 1, 1])
    supported = (True, True, True, False, True, True, True, True, True)
    check = InkCheck(supported, dark_on_light=True, coloured=(False, False, False, True, *[False] * 5))
    kept, on_colour = drop_emblem(glyphs, check, limit)
    assert (_text(kept), on_colour) == (expected, coloured)


def test_drop_emblem_leaves_two_unbacked_characters_alone() -> None:
    glyphs = _glyphs("AB1C2D34", [1, 1, 1, 0.4, 1, 0.4, 1, 1])
    supported = (True, True, True, False, True, False, True, True)
    kept, _ = drop_emblem(glyphs, InkCheck(supported, dark_on_light=True), 0.99)
    assert _text(kept) == "AB1C2D34"
