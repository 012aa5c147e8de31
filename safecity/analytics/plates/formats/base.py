"""The language every country table is written in: position classes, layouts, formats, correction.

Owns `normalise_plate`, `fold` (the search key's diacritic folding), the character sets (`DIGITS`,
`LATIN`), the position-aware correction rule (`POSITIONAL_PAIRS`), `Group`, `Layout`, `PlateMatch`
and `PlateFormat`. Country modules own only their tables; `interpret` owns choosing between
countries and the policy of when a correction is applied at all.

A correction is any change to the characters as read: a look-alike replaced by position, a
diacritic added or removed, an emblem character dropped. Each counts once in `PlateMatch.corrections`,
so a match with no corrections spells exactly what was read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# Characters a reading may be separated by on the plate or in user input: spaces, hyphens, dots
# and the middle dot some countries print between groups.
_SEPARATORS = re.compile(r"[\s\-\.·•]+")

# Look-alikes that keyboards or OCR produce for national letters (Icelandic eth for Đ).
_LOOKALIKES = str.maketrans({"Ð": "Đ"})


def normalise_plate(text: str, *, keep_diacritics: bool = False) -> str:
    """The search key of a plate reading or of user input: upper case, no spaces, hyphens or dots,
    diacritics folded ("ša 123-ab" -> "SA123AB"), so "ŠA" and an OCR model's "SA" find each other.

    `keep_diacritics` leaves Š, Đ, Č, Ć, Ž... as they are ("ŠA123AB"): for fitting a reading to a
    country's layout, whose printed text keeps them. Stored `normalised` keys are always folded.
    """
    cleaned = _SEPARATORS.sub("", unicodedata.normalize("NFC", text).strip().upper().translate(_LOOKALIKES))
    return cleaned if keep_diacritics else fold(cleaned)


DIGITS: frozenset[str] = frozenset("0123456789")
LATIN: frozenset[str] = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
ALNUM: frozenset[str] = DIGITS | LATIN

POSITIONAL_PAIRS: tuple[tuple[str, str], ...] = (
    ("0", "ODQ"),
    ("1", "I"),
    ("2", "Z"),
    ("4", "A"),
    ("5", "S"),
    ("6", "G"),
    ("8", "B"),
)
"""Digit -> the letters OCR reads for it on plates (and back), most likely first.

Used only where a position admits one side and not the other, so a digit-only position turns
O/D/Q into 0 and a letter-only position turns 0 into O (or D where O is not printed). Every pair
lies inside one class of `safecity.analytics.plates.confusion.CONFUSION_CLASSES`; the looser
members there (T and L for 1) are left out because rewriting them would change real letters.
"""


def _alternatives() -> Mapping[str, tuple[str, ...]]:
    alt: dict[str, list[str]] = {}
    for digit, letters in POSITIONAL_PAIRS:
        alt.setdefault(digit, []).extend(letters)
        for letter in letters:
            alt.setdefault(letter, []).append(digit)
    return MappingProxyType({ch: tuple(options) for ch, options in alt.items()})


_ALTERNATIVES = _alternatives()
_CLASS_OF: Mapping[str, str] = MappingProxyType(
    {ch: digit for digit, letters in POSITIONAL_PAIRS for ch in (digit, *letters)}
)
_BASE_EXCEPTIONS = {"Đ": "D", "Ł": "L", "Ø": "O"}


def base_letter(ch: str) -> str:
    """The letter without its diacritic: "Č" -> "C", "Đ" -> "D", "Ä" -> "A"; other characters as they are."""
    return _BASE_EXCEPTIONS.get(ch) or unicodedata.normalize("NFD", ch)[0]


def fold(text: str) -> str:
    """`text` with diacritics removed: "ŠA123ĐŽ" -> "SA123DZ". The search key of a plate is folded
    (OCR models often lack the national letters); its stored text keeps them."""
    return "".join(base_letter(ch) for ch in text)


def _fit_char(ch: str, allowed: frozenset[str]) -> tuple[str, int] | None:
    """`ch` as it stands in a position that admits `allowed`, with the number of changes (0 or 1)."""
    if ch in allowed:
        return ch, 0
    base = base_letter(ch)
    if base != ch and base in allowed:  # a diacritic the position does not print
        return base, 1
    for alt in _ALTERNATIVES.get(base, ()):
        if alt in allowed:
            return alt, 1
    return None


@dataclass(frozen=True, slots=True)
class Group:
    """A run of positions of one class: `min_len` to `max_len` characters out of `chars`."""

    name: str
    chars: frozenset[str]
    min_len: int = 1
    max_len: int = 1
    first: frozenset[str] | None = None
    """Characters admitted in the first position of the run (e.g. no leading zero), else `chars`."""
    codes: frozenset[str] = frozenset()
    """When not empty, the run must be one of these strings (registration-area codes)."""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a group needs a name")
        if not self.chars:
            raise ValueError(f"group {self.name!r} admits no characters")
        if not 1 <= self.min_len <= self.max_len:
            raise ValueError(
                f"group {self.name!r}: need 1 <= min_len <= max_len, got {self.min_len}, {self.max_len}"
            )
        if self.first is not None and not self.first:
            raise ValueError(f"group {self.name!r}: `first` admits no characters")
        if any(not self.min_len <= len(code) <= self.max_len for code in self.codes):
            raise ValueError(
                f"group {self.name!r}: a code is outside {self.min_len}..{self.max_len} characters"
            )

    def fit(self, segment: str) -> tuple[str, int] | None:
        """`segment` corrected to this group's classes, with the number of changed characters."""
        if self.codes:
            return self._fit_code(segment)
        out: list[str] = []
        changes = 0
        for i, ch in enumerate(segment):
            allowed = self.first if i == 0 and self.first is not None else self.chars
            fitted = _fit_char(ch, allowed)
            if fitted is None:
                return None
            out.append(fitted[0])
            changes += fitted[1]
        return "".join(out), changes

    def _fit_code(self, segment: str) -> tuple[str, int] | None:
        """The code `segment` stands for: exact, or differing by diacritics or by positional
        look-alikes, one change per character; ambiguity is never guessed."""
        if segment in self.codes:
            return segment, 0
        best: list[tuple[int, str]] = []
        for code in self.codes:
            if len(code) != len(segment):
                continue
            cost = 0
            for got, want in zip(segment, code, strict=True):
                if got == want:
                    continue
                if base_letter(got) != base_letter(want):
                    cls = _CLASS_OF.get(base_letter(want))
                    if cls is None or _CLASS_OF.get(base_letter(got)) != cls:
                        break
                cost += 1
            else:
                best.append((cost, code))
        if not best:
            return None
        low = min(cost for cost, _ in best)
        winners = sorted(code for cost, code in best if cost == low)
        if len(winners) == 1:
            return winners[0], low
        if len({fold(code) for code in winners}) == 1:
            # e.g. "BC" read for BČ or BĆ: which diacritic is not known, so keep the letters plain
            # (the search key is folded anyway); only the other changes count.
            plain = "".join(
                want if base_letter(got) != base_letter(want) else got
                for got, want in zip(segment, fold(winners[0]), strict=True)
            )
            return plain, sum(a != b for a, b in zip(segment, plain, strict=True))
        return None


@dataclass(frozen=True, slots=True)
class Layout:
    """One way a country arranges a plate: groups in order, and what is printed between them."""

    name: str
    groups: tuple[Group, ...]
    joiners: tuple[str, ...]
    """Printed between consecutive groups ("" for none); one fewer than the groups."""
    min_chars: int = 1
    max_chars: int = 16
    min_letters: int = 0
    min_digits: int = 0
    tier: int = 0
    """0 for a regular issued series, 1 for permissive layouts (vanity, dateless), 2 for generic
    catch-alls. Only tier 0 is corrected: the others accept a reading as it stands."""
    confidence: float = 1.0
    """Factor for a reading in this layout before corrections: below 1 for permissive layouts."""
    emblem_after: int | None = None
    """Index of the group after which the plate prints an emblem (coat of arms) that OCR may read
    as one extra character; that character is dropped at the cost of one correction."""
    separators_anywhere: bool = False
    """Whether separators may stand inside groups (generic layouts), so they are not evidence against it."""
    prefer: Callable[[tuple[str, ...]], int] | None = field(default=None, compare=False)
    """Penalty of a split among equally good ones (lower wins), for layouts whose normalised form
    can be split in several ways (German district and letters)."""

    def __post_init__(self) -> None:
        if not self.groups:
            raise ValueError(f"layout {self.name!r} has no groups")
        if len(self.joiners) != len(self.groups) - 1:
            raise ValueError(
                f"layout {self.name!r}: {len(self.groups)} groups need {len(self.groups) - 1} joiners, "
                f"got {len(self.joiners)}"
            )
        if not 1 <= self.min_chars <= self.max_chars:
            raise ValueError(f"layout {self.name!r}: need 1 <= min_chars <= max_chars")
        if not 0.0 < self.confidence <= 1.0:
            raise ValueError(f"layout {self.name!r}: confidence must be in (0, 1], got {self.confidence}")
        if self.tier not in (0, 1, 2):
            raise ValueError(f"layout {self.name!r}: tier must be 0, 1 or 2, got {self.tier}")
        if self.emblem_after is not None and not 0 <= self.emblem_after < len(self.groups) - 1:
            raise ValueError(f"layout {self.name!r}: emblem_after must index a group before the last")

    def render(self, parts: tuple[str, ...]) -> str:
        """The printed form of a split reading."""
        if len(parts) != len(self.groups):
            raise ValueError(f"layout {self.name!r} has {len(self.groups)} groups, got {len(parts)} parts")
        out = parts[0]
        for joiner, part in zip(self.joiners, parts[1:], strict=True):
            out += joiner + part
        return out

    def splits(self, text: str, max_corrections: int) -> list[Split]:
        """Every way `text` (normalised) fits this layout within `max_corrections`."""
        n = len(text)
        emblem = self.emblem_after is not None
        if not self.min_chars <= n <= self.max_chars + emblem:
            return []
        groups = self.groups
        rest_min = [sum(g.min_len for g in groups[i:]) for i in range(len(groups) + 1)]
        rest_max = [sum(g.max_len for g in groups[i:]) for i in range(len(groups) + 1)]
        found: list[Split] = []

        def walk(
            gi: int, pos: int, parts: tuple[str, ...], changed: int, starts: frozenset[int], dropped: int
        ) -> None:
            if gi == len(groups):
                if pos == n:
                    found.append(Split(parts, changed, dropped, starts))
                return
            if not rest_min[gi] <= n - pos <= rest_max[gi] + (emblem and not dropped):
                return
            for length in range(groups[gi].min_len, groups[gi].max_len + 1):
                if pos + length > n:
                    break
                fitted = groups[gi].fit(text[pos : pos + length])
                if fitted is None or changed + dropped + fitted[1] > max_corrections:
                    continue
                here, cost, at = (*parts, fitted[0]), changed + fitted[1], starts | {pos} if pos else starts
                walk(gi + 1, pos + length, here, cost, at, dropped)
                if gi == self.emblem_after and not dropped and cost + 1 <= max_corrections:
                    walk(gi + 1, pos + length + 1, here, cost, at | {pos + length, pos + length + 1}, 1)

        walk(0, 0, (), 0, frozenset(), 0)
        return [s for s in found if self._counts_ok("".join(s.parts))]

    def _counts_ok(self, normalised: str) -> bool:
        letters = sum(not ch.isdigit() for ch in normalised)
        return (
            self.min_chars <= len(normalised) <= self.max_chars
            and letters >= self.min_letters
            and len(normalised) - letters >= self.min_digits
        )


CORRECTION_FACTOR = 0.9
"""Confidence factor per character changed to a look-alike."""
EMBLEM_FACTOR = 0.8
"""Confidence factor for a character dropped where the plate prints its emblem."""
SEPARATOR_FACTOR = 0.8
"""Confidence factor per separator the reading shows inside a group (plates print them only between
groups, so a hyphen inside one is evidence against the layout)."""


@dataclass(frozen=True, slots=True)
class Split:
    """One way a normalised reading fits a layout."""

    parts: tuple[str, ...]
    """The corrected text of each group."""
    changed: int
    """Characters changed to a look-alike."""
    dropped: int
    """Characters dropped where the emblem is printed (0 or 1)."""
    starts: frozenset[int]
    """Positions in the reading where a group (or the emblem) begins, the first group excepted."""


@dataclass(frozen=True, slots=True)
class PlateMatch:
    """A reading that fits one layout of one format, after positional correction."""

    format: PlateFormat
    layout: Layout
    parts: tuple[str, ...]
    """The corrected text of each group of the layout."""
    corrections: int
    """Characters changed (look-alikes, diacritics added or removed) or dropped (an emblem read as a
    character) to fit the layout; 0 when the match spells exactly what was read."""
    dropped: int = 0
    """Of the corrections, characters dropped where the plate prints its emblem."""
    misplaced_separators: int = 0
    """Separators of the reading that fall inside a group of the layout."""

    @property
    def factor(self) -> float:
        """How well the reading fits: the layout's confidence times a factor per correction, dropped
        emblem character and misplaced separator (1.0 for an exact reading of a regular layout)."""
        return float(
            self.layout.confidence
            * CORRECTION_FACTOR ** (self.corrections - self.dropped)
            * EMBLEM_FACTOR**self.dropped
            * SEPARATOR_FACTOR**self.misplaced_separators
        )

    @property
    def spelled(self) -> str:
        """The corrected characters without separators, national letters kept: "ŠA123AB"."""
        return "".join(self.parts)

    @property
    def normalised(self) -> str:
        """The search key: the groups without separators, diacritics folded ("ŠA 123-AB" -> "SA123AB")."""
        return fold(self.spelled)

    @property
    def printed(self) -> str:
        """The plate as the country prints it, e.g. "BG 123-AB"."""
        return self.layout.render(self.parts)

    def group(self, name: str) -> str:
        """The text of the named group ("city", "digits", "letters" for Serbia)."""
        for group, part in zip(self.layout.groups, self.parts, strict=True):
            if group.name == name:
                return part
        raise KeyError(f"layout {self.layout.name!r} of {self.format.name} has no group {name!r}")


@dataclass(frozen=True, slots=True)
class PlateFormat:
    """The plates of one country: its layouts, registration-area codes and the letters it prints."""

    country: str
    """ISO 3166-1 alpha-2 code of the issuing country, e.g. "RS"."""
    name: str
    layouts: tuple[Layout, ...]
    """In order of preference when a reading fits several equally well."""
    description: str
    city_codes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    """Registration-area code -> the area it stands for (empty where the format does not check it)."""
    letters: frozenset[str] = LATIN
    """Letters that may appear in the serial."""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z]{2}", self.country):
            raise ValueError(f"country must be an ISO 3166-1 alpha-2 code, got {self.country!r}")
        if not self.layouts:
            raise ValueError(f"format {self.name!r} has no layouts")

    def read(
        self, text: str, *, max_corrections: int = 0, separators: frozenset[int] = frozenset()
    ) -> list[PlateMatch]:
        """Every way `text` fits this format within `max_corrections`, best first.

        `separators` are positions in the normalised text where the reading had a space or hyphen;
        each one inside a group lowers the match's `factor`. Ranked by `factor`, then fewer
        corrections, the order of `layouts`, the layout's own preference among splits.
        """
        if max_corrections < 0:
            raise ValueError(f"max_corrections must be >= 0, got {max_corrections}")
        normalised = normalise_plate(text, keep_diacritics=True)
        ranked: list[tuple[tuple[float, int, int, int, int], PlateMatch]] = []
        for li, layout in enumerate(self.layouts):
            # Permissive layouts admit so much that a corrected reading in them is no evidence.
            allowed = max_corrections if layout.tier == 0 else 0
            for order, split in enumerate(layout.splits(normalised, allowed)):
                missed = 0 if layout.separators_anywhere else len(separators - split.starts)
                m = PlateMatch(
                    self, layout, split.parts, split.changed + split.dropped, split.dropped, missed
                )
                penalty = layout.prefer(split.parts) if layout.prefer is not None else 0
                ranked.append(((-round(m.factor, 9), m.corrections, li, penalty, order), m))
        ranked.sort(key=lambda item: item[0])
        return [m for _, m in ranked]

    def match(self, text: str) -> PlateMatch | None:
        """The best exact reading of a valid plate (printed or normalised form), else None."""
        found = self.read(text)
        return found[0] if found else None

    def validate(self, text: str) -> bool:
        """Whether `text` ("BG 123-AB" or "BG123AB") is a plate of this format, without correction."""
        return self.match(text) is not None

    def printed(self, text: str) -> str:
        """The plate as printed ("BG 123-AB"); raises ValueError when `text` is not valid."""
        m = self.match(text)
        if m is None:
            raise ValueError(f"{text!r} is not a valid {self.name} plate")
        return m.printed


def letters_and_digits(pattern: str, letters: frozenset[str], name: str = "serial") -> tuple[Group, ...]:
    """Groups for a fixed pattern of `L` (one of `letters`), `D` (digit) and `X` (either): "DLLDD"."""
    if not pattern or set(pattern) - set("LDX"):
        raise ValueError(f"pattern must be made of L, D and X, got {pattern!r}")
    classes = {"L": letters, "D": DIGITS, "X": letters | DIGITS}
    runs = re.findall(r"L+|D+|X+", pattern)
    return tuple(Group(f"{name}{i}", classes[run[0]], len(run), len(run)) for i, run in enumerate(runs))
