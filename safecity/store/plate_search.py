"""Retrospective plate search over stored reads: exact, wildcard and OCR-confusion-aware fuzzy.

A `PlateQuery` says what to look for (the plate or pattern, the mode, cameras, site, time range,
how many); `search_plates` answers it from the indexes described in `plate_index`. Results come
newest first; fuzzy results come closest first (exact, then confusable, then one edit away),
newest first within each. Governance (who searched, why) wraps this at the caller.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Date,
    Integer,
    Row,
    Select,
    cast,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.orm import Session

from safecity.analytics.plates.confusion import confusion_key
from safecity.store.database import Database
from safecity.store.models import CameraRow, PlateReadRow
from safecity.store.plate_index import (
    FTS_ROWID_BITS,
    FTS_ROWID_MASK,
    FTS_TABLE,
    clean_plate_query,
    fts_docid_floor,
    fts_docid_second,
    fts_query,
    glob_pattern,
    is_pattern,
    keys_within_one_edit,
    like_pattern,
    pattern_trigrams,
)
from safecity.types import PlateMatchKind

DEFAULT_LIMIT = 100


class SearchMode(enum.StrEnum):
    EXACT = "exact"
    """The normalised plate, character for character."""
    WILDCARD = "wildcard"
    """`*` stands for any run of characters (also none), `?` for exactly one."""
    FUZZY = "fuzzy"
    """The plate, its OCR-confusable variants (O/0, B/8, ...) and anything one edit from those."""


@dataclass(frozen=True, slots=True)
class PlateQuery:
    """One plate search; build it with `PlateQuery.parse` from what a user typed."""

    plate: str
    """Normalised plate or pattern, as `plate_index.clean_plate_query` returns it."""
    mode: SearchMode
    camera_ids: tuple[str, ...] = ()
    site_id: str | None = None
    since: datetime | None = None
    """Reads at or after this time (timezone-aware)."""
    until: datetime | None = None
    """Reads before this time (timezone-aware)."""
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        if clean_plate_query(self.plate) != self.plate:
            raise ValueError(f"plate {self.plate!r} is not normalised; build the query with PlateQuery.parse")
        if is_pattern(self.plate) and self.mode is not SearchMode.WILDCARD:
            raise ValueError(
                f"{self.plate!r} contains wildcards (* or ?), which only the wildcard mode understands"
            )
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} {value.isoformat()} has no UTC offset")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError(f"since {self.since.isoformat()} is not before until {self.until.isoformat()}")
        if self.limit < 1:
            raise ValueError(f"limit must be at least 1, got {self.limit}")

    @classmethod
    def parse(
        cls,
        raw: str,
        mode: SearchMode | None = None,
        *,
        camera_ids: Sequence[str] = (),
        site_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> PlateQuery:
        """Clean `raw` ("bg 123-ab", "BG*AB"); without a mode, wildcard if it has `*` or `?`, else exact."""
        plate = clean_plate_query(raw)
        if mode is None:
            mode = SearchMode.WILDCARD if is_pattern(plate) else SearchMode.EXACT
        return cls(plate, mode, tuple(camera_ids), site_id, since, until, limit)


@dataclass(frozen=True, slots=True)
class PlateSearchHit:
    """One stored read that answers a search, with how it matched."""

    id: str
    camera_id: str
    site_id: str
    timestamp: datetime
    text: str
    normalised: str
    country: str
    confidence: float
    snapshot: str
    match: PlateMatchKind


_R = PlateReadRow
_COLUMNS = (
    _R.id,
    _R.camera_id,
    _R.ts,
    _R.text,
    _R.normalised,
    _R.confusion_key,
    _R.country,
    _R.confidence,
    _R.snapshot,
)
_NEWEST_FIRST = (_R.ts.desc(), _R.id.desc())
_ROWID: ColumnClause[int] = literal_column(f"{_R.__tablename__}.rowid", Integer)

TRIGRAM_PAGE_FIRST = 64
"""SQLite: trigram candidates read in the first page (then doubled per page, up to the max)."""
TRIGRAM_PAGE_MAX = 8192
FUZZY_PLATES_ONE_BY_ONE = 32
"""Fuzzy: groups of up to this many plates are read plate by plate (each newest first, cheap)."""
PG_RARE_ROWS = 200
PG_RARE_FACTOR = 2
"""PostgreSQL: when the rest of the range is expected to hold fewer matches than PG_RARE_ROWS, or
than PG_RARE_FACTOR times the number still wanted, one query reads them all instead of going on
day by day."""
PG_WINDOW_CAP = 3_000
"""PostgreSQL: a window with more matches than this is read off the time index instead (dense)."""
_MAX_DOCID = (1 << 63) - 1


class _Columns(Protocol):
    @property
    def camera_id(self) -> ColumnElement[str]: ...
    @property
    def ts(self) -> ColumnElement[datetime]: ...


def _filters(query: PlateQuery, cols: _Columns | None = None) -> list[ColumnElement[bool]]:
    """The camera, site and time conditions of `query`, on `plate_reads` or on a subquery's columns."""
    camera_id = _R.camera_id if cols is None else cols.camera_id
    ts = _R.ts if cols is None else cols.ts
    out: list[ColumnElement[bool]] = []
    if query.camera_ids:
        out.append(camera_id.in_(query.camera_ids))
    if query.site_id is not None:
        out.append(camera_id.in_(select(CameraRow.id).where(CameraRow.site_id == query.site_id)))
    if query.since is not None:
        out.append(ts >= query.since)
    if query.until is not None:
        out.append(ts < query.until)
    return out


def _select(*where: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    return select(*_COLUMNS).where(*where)


def build_search(query: PlateQuery, dialect: str) -> Select[*tuple[Any, ...]]:
    """One SELECT answering an exact or wildcard `query` on `dialect` ("sqlite" or "postgresql").

    `search_plates` uses it except where it knows better: SQLite wildcards with a trigram (read
    newest first from the trigram table, page by page) and fuzzy searches (a few small queries).
    """
    if query.mode is SearchMode.FUZZY:
        raise ValueError("a fuzzy search is several queries; use search_plates")
    if query.mode is SearchMode.EXACT:
        match: ColumnElement[bool] = _R.normalised == query.plate
    elif dialect == "postgresql":
        # Served by the GIN trigram index (or a walk of the time index, as the planner sees fit).
        match = _R.normalised.like(like_pattern(query.plate))
    else:
        # No trigram to use (see _trigram_search): GLOB alone, helped by the btree if it has a prefix.
        match = _R.normalised.op("GLOB")(glob_pattern(query.plate))
    return _select(match, *_filters(query)).order_by(*_NEWEST_FIRST).limit(query.limit)


def _trigram_candidates(query: PlateQuery) -> tuple[str, dict[str, object]]:
    sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts"
    params: dict[str, object] = {"fts": fts_query(pattern_trigrams(query.plate))}
    if query.since is not None:
        sql += " AND rowid >= :lo"
        params["lo"] = fts_docid_floor(query.since)
    sql += " AND rowid < :hi ORDER BY rowid DESC LIMIT :n"
    return sql, params


def _trigram_search(session: Session, query: PlateQuery) -> list[Row[Any]]:
    """SQLite wildcard: trigram candidates newest first, rechecked by GLOB, until the limit is sure.

    After the candidates down to document id `last` are checked, every read newer than the
    second of `last` has been seen; once the limit-th result is at least that new, no unseen
    read can displace it.
    """
    sql, params = _trigram_candidates(query)
    hi = (fts_docid_floor(query.until) + (1 << FTS_ROWID_BITS)) if query.until is not None else _MAX_DOCID
    # The unary plus keeps SQLite from answering GLOB by a btree prefix range instead.
    recheck: list[ColumnElement[bool]] = [
        literal_column(f"+{_R.__tablename__}.normalised").op("GLOB")(glob_pattern(query.plate)),
        *_filters(query),
    ]
    found: list[Row[Any]] = []
    page = max(TRIGRAM_PAGE_FIRST, query.limit + query.limit // 2)
    while True:
        docids = list(session.scalars(text(sql), {**params, "hi": hi, "n": page}).all())
        if docids:
            rowids = [d & FTS_ROWID_MASK for d in docids]
            found.extend(session.execute(_select(_ROWID.in_(rowids), *recheck)).all())
            found.sort(key=lambda r: (r.ts, r.id), reverse=True)
        if len(docids) < page:
            break
        hi = docids[-1]
        unseen_before = datetime.fromtimestamp(fts_docid_second(hi) + 1, UTC)
        if len(found) >= query.limit and found[query.limit - 1].ts >= unseen_before:
            break
        page = min(2 * page, TRIGRAM_PAGE_MAX)
    return found[: query.limit]


def _materialized(stmt: Select[*tuple[Any, ...]], limit: int) -> Select[*tuple[Any, ...]]:
    """`stmt` run on its own, then its newest `limit` rows: the planner cannot trade the index
    `stmt` needs for a walk of the time index that the ORDER BY ... LIMIT would invite."""
    m = stmt.cte("m").prefix_with("MATERIALIZED")
    return select(*m.c).order_by(m.c.ts.desc(), m.c.id.desc()).limit(limit)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def _pg_window(session: Session, query: PlateQuery, days: list[date], left: int) -> list[Row[Any]]:
    """The newest `left` matches within `days`: from the GIN index while they are few, else by a
    walk of the time index over those days (a dense pattern fills `left` quickly there)."""
    like = _R.normalised.like(like_pattern(query.plate))
    # The GIN index on (trigrams, day) alone, at most PG_WINDOW_CAP rows: no time-index walk and
    # no bitmap over a whole day of the time index (either costs far more than a sparse answer).
    found = (
        select(*_COLUMNS)
        .where(like, cast(_R.ts, Date).in_(days))
        .limit(PG_WINDOW_CAP)
        .cte("window_matches")
        .prefix_with("MATERIALIZED")
    )
    count = select(func.count()).select_from(found)
    filters = _filters(query, found.c)
    picked = (
        select(*found.c, count.scalar_subquery().label("window_size"))
        .where(*filters)
        .order_by(found.c.ts.desc(), found.c.id.desc())
        .limit(left)
    )
    rows: list[Row[Any]] = list(session.execute(picked).all())  # type: ignore[arg-type]
    # Nothing passed the filters: ask whether the window held nothing, or too much to read.
    unfiltered = session.scalar(count) if not rows and filters else 0
    size = int(rows[0].window_size) if rows else int(unfiltered or 0)
    if size < PG_WINDOW_CAP:
        return rows
    # Dense: `|| ''` hides the column from the trigram index, so the planner walks the time index.
    walked = (_R.normalised + "").like(like_pattern(query.plate))
    in_days = (_R.ts >= _day_start(days[-1]), _R.ts < _day_start(days[0] + timedelta(days=1)))
    walk = _select(walked, *in_days, *_filters(query)).order_by(*_NEWEST_FIRST).limit(left)
    return list(session.execute(walk).all())


def _pg_wildcard_search(session: Session, query: PlateQuery) -> list[Row[Any]]:
    """PostgreSQL wildcard: day by day, newest day first, until the limit is reached.

    Each step asks for the newest matches within one day, then the next one, two, four... days
    back (`_pg_window`): the GIN index on (trigrams, day) gives a sparse pattern's matches of
    those days only, and a dense pattern is read off the time index instead. Once the days read
    so far predict few matches in the rest of the range (see PG_RARE_ROWS), the rest is asked
    for in one query. So a pattern found in one read of a thousand is never fetched whole to
    keep the newest 100 of its matches, and a frequent one is answered from the newest reads.
    """
    filters = _filters(query)
    oldest, newest = session.execute(select(func.min(_R.ts), func.max(_R.ts)).where(*filters)).one()
    if oldest is None or newest is None:
        return []
    day, last_day = newest.astimezone(UTC).date(), oldest.astimezone(UTC).date()
    found: list[Row[Any]] = []
    span = days_read = 0
    while day >= last_day and len(found) < query.limit:
        span = max(1, 2 * span)
        days = [day - timedelta(days=i) for i in range(span) if day - timedelta(days=i) >= last_day]
        found.extend(_pg_window(session, query, days, query.limit - len(found)))
        days_read += len(days)
        day = days[-1] - timedelta(days=1)
        remaining_days = (day - last_day).days + 1
        left = query.limit - len(found)
        expected_rest = len(found) * remaining_days / days_read
        if left > 0 and remaining_days > 0 and expected_rest < max(PG_RARE_ROWS, PG_RARE_FACTOR * left):
            like = _R.normalised.like(like_pattern(query.plate))
            rest = _select(like, _R.ts < _day_start(day + timedelta(days=1)), *filters)
            found.extend(session.execute(_materialized(rest, query.limit - len(found))).all())
            break
    return found


def _fuzzy_search(session: Session, query: PlateQuery) -> list[Row[Any]]:
    """Exact reads first, then confusable plates, then plates one edit away; newest first within each.

    The distinct plates near the query come from the (confusion_key, normalised) index alone;
    then each group's reads are read newest first, as many as the limit still allows.
    """
    key = confusion_key(query.plate)
    near = _R.confusion_key.in_(sorted(keys_within_one_edit(key)))
    plates = set(session.scalars(select(_R.normalised).where(near).distinct()))
    groups = [
        [query.plate] if query.plate in plates else [],
        sorted(p for p in plates if p != query.plate and confusion_key(p) == key),
        sorted(p for p in plates if confusion_key(p) != key),
    ]
    found: list[Row[Any]] = []
    for group in groups:
        left = query.limit - len(found)
        if group and left > 0:
            found.extend(_newest_of(session, group, _filters(query), left))
    return found


def _newest_of(
    session: Session, plates: Sequence[str], filters: list[ColumnElement[bool]], limit: int
) -> list[Row[Any]]:
    """The newest `limit` reads of any of `plates`: each plate's newest off the (normalised, ts)
    index, merged here, so a plate read ten thousand times costs no more than a rare one."""
    if len(plates) > FUZZY_PLATES_ONE_BY_ONE:
        stmt = _select(_R.normalised.in_(plates), *filters).order_by(*_NEWEST_FIRST).limit(limit)
        return list(session.execute(stmt).all())
    rows: list[Row[Any]] = []
    for plate in plates:
        stmt = _select(_R.normalised == plate, *filters).order_by(*_NEWEST_FIRST).limit(limit)
        rows.extend(session.execute(stmt).all())
    rows.sort(key=lambda r: (r.ts, r.id), reverse=True)
    return rows[:limit]


def _kind(query: PlateQuery, normalised: str, key: str) -> PlateMatchKind:
    if query.mode is not SearchMode.FUZZY or normalised == query.plate:
        return PlateMatchKind.EXACT
    if key == confusion_key(query.plate):
        return PlateMatchKind.CONFUSABLE
    return PlateMatchKind.ONE_EDIT


def search_plates(db: Database, query: PlateQuery, session: Session | None = None) -> list[PlateSearchHit]:
    """The reads that answer `query`, at most `query.limit` of them (in `session` when given)."""
    if session is None:
        with db.session() as own:
            return search_plates(db, query, own)
    dialect = db.engine.dialect.name
    if query.mode is SearchMode.FUZZY:
        rows = _fuzzy_search(session, query)
    elif query.mode is SearchMode.WILDCARD and dialect == "sqlite" and pattern_trigrams(query.plate):
        rows = _trigram_search(session, query)
    elif query.mode is SearchMode.WILDCARD and dialect == "postgresql":
        rows = _pg_wildcard_search(session, query)
    else:
        rows = list(session.execute(build_search(query, dialect)).all())
    camera_ids = sorted({row.camera_id for row in rows})
    site_query = select(CameraRow.id, CameraRow.site_id).where(CameraRow.id.in_(camera_ids))
    sites = {cam: site for cam, site in session.execute(site_query)} if camera_ids else {}
    return [
        PlateSearchHit(
            id=row.id,
            camera_id=row.camera_id,
            site_id=sites.get(row.camera_id, ""),
            timestamp=row.ts,
            text=row.text,
            normalised=row.normalised,
            country=row.country,
            confidence=row.confidence,
            snapshot=row.snapshot,
            match=_kind(query, row.normalised, row.confusion_key),
        )
        for row in rows
    ]
