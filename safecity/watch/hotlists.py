"""Plate hotlist matching: each plate read is checked against the entries in force, alerts are raised.

A read matches an entry when its normalised text equals the plate (exact), when it does once
OCR-confusable characters are folded together (confusable: `BG120AB` for `BG12OAB`), or when the
folded texts are one substitution, insertion or deletion apart (one edit: a character misread
beyond the confusion classes, or lost). Patterns (`BG*AB`, `?G12?AB`) match exactly or
confusably, not by one edit: a pattern is already loose. One-edit matching applies to plates of
at least `one_edit_min_length` characters and can be switched off (`hotlists.one_edit`).

Matching runs for every read, so it costs a handful of dictionary look-ups however long the
hotlist is: the entries are indexed once by plate, by confusion key, by key with one position
blanked (substitutions) and by key with one character deleted (a read that lost a character);
a read with an extra character is found by looking its own deletions up among the keys. Patterns,
few by nature, are regexes tried on the read's text and key. Expiry is checked per match against
`now`, so an entry that lapses during a run stops matching at once. Plates and reads are compared
by their search keys, diacritics folded (`normalise_plate`): `ŠA123AB` is `SA123AB`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from safecity.analytics.plates.confusion import confusion_key
from safecity.analytics.plates.formats import normalise_plate
from safecity.config import HotlistSettings
from safecity.store.hotlists import HotlistStore
from safecity.store.models import utcnow
from safecity.store.plate_index import pattern_regex
from safecity.types import (
    Alert,
    AlertKind,
    HotlistEntry,
    HotlistHit,
    Observation,
    PlateMatchKind,
    PlateRead,
    new_id,
)

_BLANK = "\x00"
_RANK = {PlateMatchKind.EXACT: 0, PlateMatchKind.CONFUSABLE: 1, PlateMatchKind.ONE_EDIT: 2}
_NONE: tuple[HotlistEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class _Pattern:
    entry: HotlistEntry
    literal: re.Pattern[str]
    folded: re.Pattern[str]


def _put(index: dict[str, list[HotlistEntry]], key: str, entry: HotlistEntry) -> None:
    bucket = index.setdefault(key, [])
    if entry not in bucket:
        bucket.append(entry)


class HotlistMatcher:
    """Matches plate reads against a fixed set of hotlist entries; build a new one to change the set."""

    def __init__(self, entries: Iterable[HotlistEntry], settings: HotlistSettings | None = None) -> None:
        self.settings = settings or HotlistSettings()
        self.entries = tuple(e for e in entries if e.active)
        self._exact: dict[str, list[HotlistEntry]] = {}
        self._by_key: dict[str, list[HotlistEntry]] = {}
        self._long_keys: dict[str, list[HotlistEntry]] = {}
        self._blanked: dict[str, list[HotlistEntry]] = {}
        self._deleted: dict[str, list[HotlistEntry]] = {}
        self._patterns: list[_Pattern] = []
        one_edit, min_len = self.settings.one_edit, self.settings.one_edit_min_length
        for entry in self.entries:
            # Stored entries are folded already (`clean_plate_query`); entries built elsewhere may not be.
            plate = normalise_plate(entry.plate)
            key = confusion_key(plate)
            if entry.is_pattern:
                self._patterns.append(_Pattern(entry, pattern_regex(plate), pattern_regex(key)))
                continue
            _put(self._exact, plate, entry)
            _put(self._by_key, key, entry)
            if one_edit and len(plate) >= min_len:
                _put(self._long_keys, key, entry)
                for i in range(len(key)):
                    _put(self._blanked, key[:i] + _BLANK + key[i + 1 :], entry)
                    _put(self._deleted, key[:i] + key[i + 1 :], entry)

    @classmethod
    def from_store(cls, store: HotlistStore, now: datetime | None = None) -> HotlistMatcher:
        """A matcher over the entries in force at `now` (default: the current time)."""
        return cls(store.in_force(now), store.settings)

    def __len__(self) -> int:
        return len(self.entries)

    def hits(self, read: PlateRead, now: datetime) -> list[HotlistHit]:
        """The entries in force at `now` that `read` matches, best match first, each with its alert."""
        plate = normalise_plate(read.normalised)
        if not plate or not self.entries:
            return []
        found: dict[str, tuple[PlateMatchKind, HotlistEntry]] = {}

        def note(entries: Iterable[HotlistEntry], kind: PlateMatchKind) -> None:
            for entry in entries:
                seen = found.get(entry.id)
                if seen is None or _RANK[kind] < _RANK[seen[0]]:
                    found[entry.id] = (kind, entry)

        key = confusion_key(plate)
        note(self._exact.get(plate, _NONE), PlateMatchKind.EXACT)
        note(self._by_key.get(key, _NONE), PlateMatchKind.CONFUSABLE)
        if self._long_keys:
            for i in range(len(key)):
                note(self._blanked.get(key[:i] + _BLANK + key[i + 1 :], _NONE), PlateMatchKind.ONE_EDIT)
                note(self._long_keys.get(key[:i] + key[i + 1 :], _NONE), PlateMatchKind.ONE_EDIT)
            note(self._deleted.get(key, _NONE), PlateMatchKind.ONE_EDIT)
        for pattern in self._patterns:
            if pattern.literal.fullmatch(plate):
                note((pattern.entry,), PlateMatchKind.EXACT)
            elif pattern.folded.fullmatch(key):
                note((pattern.entry,), PlateMatchKind.CONFUSABLE)
        hits: list[HotlistHit] = []
        for kind, entry in sorted(found.values(), key=lambda ke: (_RANK[ke[0]], ke[1].created_at, ke[1].id)):
            if not entry.in_force(now):
                continue
            score = round(read.confidence * self._factor(kind), 4)
            if score < self.settings.min_score:
                continue
            hits.append(HotlistHit(alert=_alert(read, entry, kind, score), entry=entry, read=read, kind=kind))
        return hits

    def match(self, read: PlateRead, now: datetime) -> list[Alert]:
        """The alerts `read` raises at `now` (see `hits` for the evidence behind each)."""
        return [hit.alert for hit in self.hits(read, now)]

    def _factor(self, kind: PlateMatchKind) -> float:
        if kind is PlateMatchKind.CONFUSABLE:
            return self.settings.confusable_factor
        if kind is PlateMatchKind.ONE_EDIT:
            return self.settings.one_edit_factor
        return 1.0


def _alert(read: PlateRead, entry: HotlistEntry, kind: PlateMatchKind, score: float) -> Alert:
    how = "" if kind is PlateMatchKind.EXACT else f" ({kind.value.replace('_', ' ')} match)"
    return Alert(
        id=new_id(),
        kind=AlertKind.PLATE_HOTLIST,
        camera_id=read.camera_id,
        timestamp=read.timestamp,
        message=f"plate {read.text or read.normalised} on hotlist as {entry.plate}{how}: {entry.reason}",
        observation_id=read.id,
        score=score,
    )


class HotlistAlerter:
    """Checks reads as they are stored and saves the alerts they raise; re-reads the hotlist as it changes.

    The hotlist is re-read from the store every `reload_interval_s` seconds, so entries added or
    removed with `safecity hotlist` reach a running pipeline without a restart.
    """

    def __init__(
        self,
        store: HotlistStore,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._clock = clock
        self._monotonic = monotonic
        self._loaded_at = monotonic()
        self.matcher = HotlistMatcher.from_store(store, clock())

    def reload(self) -> None:
        self.matcher = HotlistMatcher.from_store(self.store, self._clock())
        self._loaded_at = self._monotonic()

    def check(self, observations: Iterable[Observation]) -> list[Alert]:
        """Match the plate reads among `observations`, store their alerts, return them."""
        if self._monotonic() - self._loaded_at >= self.store.settings.reload_interval_s:
            self.reload()
        now = self._clock()
        hits = [
            hit for obs in observations if isinstance(obs, PlateRead) for hit in self.matcher.hits(obs, now)
        ]
        self.store.save_alerts(hits)
        return [hit.alert for hit in hits]
