"""The road graph of the synthetic city: real Belgrade places, distances, positions along a route.

Nodes are junctions and landmarks with their WGS84 coordinates (taken from maps, accurate to a few
tens of metres); edges are street segments. A `Route` is a chain of nodes treated as one
polyline: the scenario places cameras and vehicles by their distance along it.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), used by the haversine distance."""


@dataclass(frozen=True, slots=True)
class Node:
    """A junction or landmark."""

    id: str
    name: str
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Edge:
    """A street segment between two nodes, drivable both ways."""

    a: str
    b: str
    street: str


NODES: dict[str, Node] = {
    n.id: n
    for n in (
        Node("terazije", "Terazije", 44.8127, 20.4612),
        Node("trg_nikole_pasica", "Trg Nikole Pašića", 44.8116, 20.4651),
        Node("takovska", "Takovska", 44.8099, 20.4686),
        Node("sveti_marko", "St. Mark's Church", 44.8086, 20.4711),
        Node("vukov_spomenik", "Vukov spomenik", 44.8050, 20.4767),
        Node("djeram", "Đeram market", 44.8010, 20.4880),
        Node("cvetkova_pijaca", "Cvetkova pijaca", 44.7967, 20.5004),
        Node("slavija", "Slavija", 44.8023, 20.4663),
        Node("autokomanda", "Autokomanda", 44.7902, 20.4714),
    )
}

EDGES: tuple[Edge, ...] = (
    Edge("terazije", "trg_nikole_pasica", "Dečanska"),
    Edge("trg_nikole_pasica", "takovska", "Bulevar kralja Aleksandra"),
    Edge("takovska", "sveti_marko", "Bulevar kralja Aleksandra"),
    Edge("sveti_marko", "vukov_spomenik", "Bulevar kralja Aleksandra"),
    Edge("vukov_spomenik", "djeram", "Bulevar kralja Aleksandra"),
    Edge("djeram", "cvetkova_pijaca", "Bulevar kralja Aleksandra"),
    Edge("terazije", "slavija", "Kralja Milana"),
    Edge("slavija", "autokomanda", "Bulevar oslobođenja"),
)

CORRIDOR: tuple[str, ...] = (
    "trg_nikole_pasica",
    "takovska",
    "sveti_marko",
    "vukov_spomenik",
    "djeram",
    "cvetkova_pijaca",
)
"""Bulevar kralja Aleksandra from Trg Nikole Pašića eastwards: where the sim's cameras stand."""

CORRIDOR_STREET = "Bulevar kralja Aleksandra"


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial compass bearing (0 = north, 90 = east) from the first point to the second."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


def offset_point(lat: float, lon: float, bearing: float, distance_m: float) -> tuple[float, float]:
    """The point `distance_m` from (lat, lon) along compass `bearing` (spherical Earth)."""
    d = distance_m / EARTH_RADIUS_M
    b = math.radians(bearing)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), math.degrees(l2)


def neighbours(node_id: str) -> list[tuple[str, float]]:
    """Adjacent nodes of `node_id` with the length of the connecting edge in metres."""
    out: list[tuple[str, float]] = []
    for e in EDGES:
        if node_id in (e.a, e.b):
            other = e.b if e.a == node_id else e.a
            out.append((other, _edge_length(e.a, e.b)))
    return out


def _edge_length(a: str, b: str) -> float:
    na, nb = NODES[a], NODES[b]
    return haversine_m(na.latitude, na.longitude, nb.latitude, nb.longitude)


def shortest_path(start: str, goal: str) -> tuple[str, ...]:
    """The node ids of the shortest path between two nodes (Dijkstra); ValueError if none."""
    for n in (start, goal):
        if n not in NODES:
            raise ValueError(f"unknown node {n!r}; known: {', '.join(sorted(NODES))}")
    best: dict[str, float] = {start: 0.0}
    previous: dict[str, str] = {}
    queue: list[tuple[float, str]] = [(0.0, start)]
    while queue:
        dist, node = heapq.heappop(queue)
        if node == goal:
            break
        if dist > best.get(node, math.inf):
            continue
        for other, length in neighbours(node):
            candidate = dist + length
            if candidate < best.get(other, math.inf):
                best[other] = candidate
                previous[other] = node
                heapq.heappush(queue, (candidate, other))
    if goal not in best:
        raise ValueError(f"no road from {start!r} to {goal!r}")
    path = [goal]
    while path[-1] != start:
        path.append(previous[path[-1]])
    return tuple(reversed(path))


@dataclass(frozen=True, slots=True)
class RoutePoint:
    """A position on a route: where it is and which way the route runs there."""

    distance_m: float
    latitude: float
    longitude: float
    heading_deg: float
    """Compass bearing of the route at this point, in the direction of increasing distance."""
    nearest_node: str


class Route:
    """A chain of graph nodes seen as one polyline, addressed by distance from its first node."""

    def __init__(self, node_ids: tuple[str, ...]) -> None:
        if len(node_ids) < 2:
            raise ValueError("a route needs at least two nodes")
        for n in node_ids:
            if n not in NODES:
                raise ValueError(f"unknown node {n!r}")
        self.node_ids = node_ids
        cumulative = [0.0]
        for a, b in itertools.pairwise(node_ids):
            cumulative.append(cumulative[-1] + _edge_length(a, b))
        self.cumulative_m: tuple[float, ...] = tuple(cumulative)

    @property
    def length_m(self) -> float:
        return self.cumulative_m[-1]

    def point_at(self, distance_m: float) -> RoutePoint:
        """The position `distance_m` metres along the route (clamped to its ends)."""
        d = min(max(distance_m, 0.0), self.length_m)
        i = 0
        while i < len(self.cumulative_m) - 2 and d > self.cumulative_m[i + 1]:
            i += 1
        a, b = NODES[self.node_ids[i]], NODES[self.node_ids[i + 1]]
        seg = self.cumulative_m[i + 1] - self.cumulative_m[i]
        heading = bearing_deg(a.latitude, a.longitude, b.latitude, b.longitude)
        lat, lon = offset_point(a.latitude, a.longitude, heading, d - self.cumulative_m[i])
        nearest = self.node_ids[i] if d - self.cumulative_m[i] <= seg / 2 else self.node_ids[i + 1]
        return RoutePoint(d, lat, lon, heading, nearest)
