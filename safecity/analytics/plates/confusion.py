"""OCR confusions on plates: which characters a reader mistakes for each other, and edit distance.

One definition for everything that compares plate strings loosely: track voting, hotlist
matching and fuzzy search. Reads that differ only inside a class are treated as possibly the
same plate; the exact string is never rewritten here (that is the country formats' job, which
knows by position whether a letter or a digit belongs there).
"""

from __future__ import annotations

CONFUSION_CLASSES = ("O0DQ", "I1LT", "B8", "S5", "Z2", "G6", "A4")
_CANONICAL = {ch: cls[0] for cls in CONFUSION_CLASSES for ch in cls}


def confusion_key(normalised: str) -> str:
    """The plate with each easily confused character replaced by its class representative."""
    return "".join(_CANONICAL.get(ch, ch) for ch in normalised)


def within_one_edit(a: str, b: str) -> bool:
    """True when a and b differ by at most one substitution, insertion or deletion."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))
