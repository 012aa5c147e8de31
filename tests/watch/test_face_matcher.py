"""Face matching: nearest template within the threshold, and only inside the authorisation's scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from safecity.types import Authorisation, AuthorisationPurpose, FaceTemplate
from safecity.watch.face_decision import OpenSetRule
from safecity.watch.faces import FaceMatcher

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)


def authorisation(**override: object) -> Authorisation:
    values: dict[str, object] = {
        "id": "auth-1",
        "authority": "Higher Court Belgrade",
        "reference": "Kpp 12/2026",
        "purpose": AuthorisationPurpose.MISSING_PERSON,
        "camera_ids": ("cam-1", "cam-2"),
        "valid_from": T0 - timedelta(days=1),
        "valid_until": T0 + timedelta(days=1),
        "expires_at": T0 + timedelta(days=2),
        "created_by": "investigator",
        "created_at": T0 - timedelta(days=1),
    }
    values.update(override)
    return Authorisation(**values)  # type: ignore[arg-type]


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return v / np.linalg.norm(v)


def template(label: str, vector: np.ndarray, auth: Authorisation | None = None) -> FaceTemplate:
    return FaceTemplate(
        entry_id=f"entry-{label}",
        watchlist_id="wl-1",
        watchlist_name="missing persons",
        watchlist_version=1,
        label=label,
        vector=tuple(float(x) for x in vector),
        photo_ref=f"watchlists/wl-1/{label}.jpg",
        authorisation=auth or authorisation(),
    )


def near(vector: np.ndarray, distance: float, seed: int = 99) -> np.ndarray:
    direction = unit(seed)
    direction -= direction.dot(vector) * vector
    direction /= np.linalg.norm(direction)
    return (vector + distance * direction).astype(np.float32)


def test_nearest_template_within_threshold_matches() -> None:
    a, b = unit(1), unit(2)
    matcher = FaceMatcher([template("a", a), template("b", b)], OpenSetRule.fixed_distance(0.4))
    match = matcher.match("cam-1", T0, near(b, 0.3), NOW)
    assert match is not None
    assert match.template.label == "b"
    assert match.distance == pytest.approx(0.3, abs=1e-5)


def test_face_beyond_threshold_matches_nothing() -> None:
    a = unit(1)
    assert (
        FaceMatcher([template("a", a)], OpenSetRule.fixed_distance(0.4)).match(
            "cam-1", T0, near(a, 0.45), NOW
        )
        is None
    )


@pytest.mark.parametrize(
    ("camera", "ts", "now", "auth"),
    [
        ("cam-9", T0, NOW, authorisation()),
        ("cam-1", T0 - timedelta(days=2), NOW, authorisation()),
        ("cam-1", T0 + timedelta(days=1, seconds=1), NOW, authorisation()),
        ("cam-1", T0, T0 + timedelta(days=3), authorisation()),
        ("cam-1", T0, NOW, authorisation(expires_at=T0 - timedelta(seconds=1))),
        ("cam-1", T0, NOW, authorisation(status="refused")),
    ],
    ids=[
        "camera not authorised",
        "before window",
        "after window",
        "matched after expiry",
        "sighting after expiry",
        "not approved",
    ],
)
def test_out_of_scope_face_matches_nothing(
    camera: str, ts: datetime, now: datetime, auth: Authorisation
) -> None:
    a = unit(1)
    matcher = FaceMatcher([template("a", a, auth)], OpenSetRule.fixed_distance(0.4))
    assert matcher.match(camera, ts, a, now) is None


def test_out_of_scope_template_does_not_hide_an_in_scope_one() -> None:
    a = unit(1)
    elsewhere = authorisation(id="auth-2", camera_ids=("cam-9",))
    matcher = FaceMatcher(
        [template("close", a, elsewhere), template("far", near(a, 0.35))], OpenSetRule.fixed_distance(0.4)
    )
    match = matcher.match("cam-1", T0, a, NOW)
    assert match is not None and match.template.label == "far"


def test_matcher_without_templates_matches_nothing() -> None:
    assert FaceMatcher([], OpenSetRule.fixed_distance(0.4)).match("cam-1", T0, unit(1), NOW) is None


def test_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        FaceMatcher([], OpenSetRule.fixed_distance(0.0))
