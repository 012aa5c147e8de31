// The city map: draws every <div class="citymap" data-points='[...]' [data-line="1"] [data-geojson="/url"]>
// with Leaflet (vendored, static/vendor/) over the basemap this server names (/map/basemap.json: the
// city's tile server, the local tiles file, or the demo city's streets). Cameras are markers with their
// viewing direction and field of view, coloured by what they analyse, grouped when zoomed out.
// Nothing is loaded from another host; all text is set as text (names come from the registry).
"use strict";

(() => {
  const KINDS = [
    ["faces", "analyses faces"],
    ["plates", "reads licence plates"],
    ["traffic", "counts traffic"],
    ["motion", "detects motion only"],
  ];
  const ICON_PX = 56;
  const WEDGE_PX = 27;
  const DOT_PX = 7;
  const LABELS_FROM_ZOOM = 15; // closer than this, street and place names would overlap
  const FIT_PADDING_PX = 48;
  let basemapRequest = null;

  function basemap() {
    if (basemapRequest === null) {
      basemapRequest = fetch("/map/basemap.json").then((r) => {
        if (!r.ok) throw new Error(`basemap: ${r.status}`);
        return r.json();
      });
    }
    return basemapRequest;
  }

  function kindOf(capabilities) {
    const found = KINDS.find(([kind]) => (capabilities || []).includes(kind));
    return found ? found[0] : "none";
  }

  function safeToken(text) {
    return String(text || "unknown").replace(/[^a-z0-9_-]/gi, "").toLowerCase() || "unknown";
  }

  function safeHref(href) {
    const text = String(href || "");
    return text.startsWith("/") || text.startsWith("#") ? text : null;
  }

  // A dot with the viewing wedge: compass heading (0 north, clockwise), opening `fov` degrees.
  function iconSvg(point, fov) {
    const c = ICON_PX / 2;
    let wedge = "";
    const heading = Number(point.heading);
    if (point.heading !== null && point.heading !== undefined && Number.isFinite(heading)) {
      if (fov >= 360) {
        wedge = `<circle class="wedge" cx="${c}" cy="${c}" r="${WEDGE_PX}"/>`;
      } else {
        const at = (deg) => {
          const rad = (deg * Math.PI) / 180;
          return `${(c + WEDGE_PX * Math.sin(rad)).toFixed(2)} ${(c - WEDGE_PX * Math.cos(rad)).toFixed(2)}`;
        };
        const large = fov > 180 ? 1 : 0;
        wedge =
          `<path class="wedge" d="M ${c} ${c} L ${at(heading - fov / 2)} ` +
          `A ${WEDGE_PX} ${WEDGE_PX} 0 ${large} 1 ${at(heading + fov / 2)} Z"/>`;
      }
    }
    return (
      `<svg xmlns="http://www.w3.org/2000/svg" width="${ICON_PX}" height="${ICON_PX}" ` +
      `viewBox="0 0 ${ICON_PX} ${ICON_PX}" aria-hidden="true">${wedge}` +
      `<circle class="dot" cx="${c}" cy="${c}" r="${DOT_PX}"/></svg>`
    );
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function link(href, text) {
    const a = element("a", "", text);
    a.href = href;
    return a;
  }

  function popupOf(point) {
    const box = element("div", "citymap-popup");
    box.append(element("strong", "", point.name || point.id));
    box.append(element("div", "", `Camera id: ${point.id}`));
    const kinds = (point.capabilities || []).join(", ") || "nothing";
    box.append(element("div", "", `Analyses: ${kinds}`));
    if (point.state) box.append(element("div", "", `State: ${point.state}`));
    if (point.alerts !== undefined) {
      const line = element("div");
      const words = `${point.alerts} alert${point.alerts === 1 ? "" : "s"} recently`;
      const href = safeHref(point.alerts_href);
      line.append(point.alerts > 0 && href ? link(href, words) : document.createTextNode(words));
      box.append(line);
    }
    const href = safeHref(point.href);
    if (href) {
      const line = element("div");
      line.append(link(href, href.startsWith("#") ? "Its entry in the register" : "Open the camera's page"));
      box.append(line);
    }
    return box;
  }

  function cameraMarker(point, fov) {
    const kind = kindOf(point.capabilities);
    const icon = L.divIcon({
      className: `citymap-cam kind-${kind} state-${safeToken(point.state)}`,
      html: iconSvg(point, Number(point.fov) > 0 ? Number(point.fov) : fov),
      iconSize: [ICON_PX, ICON_PX],
      iconAnchor: [ICON_PX / 2, ICON_PX / 2],
      popupAnchor: [0, -DOT_PX],
    });
    const marker = L.marker([point.lat, point.lon], { icon, title: `${point.id}: ${point.name || ""}`, alt: point.id });
    marker.bindPopup(popupOf(point));
    marker.bindTooltip(point.name || point.id, { direction: "top", offset: [0, -DOT_PX] });
    marker.on("popupopen", () => marker.closeTooltip()); // the popup says it all, uncovered
    return marker;
  }

  function streetsLayer(map, url) {
    return fetch(url)
      .then((r) => {
        if (!r.ok) throw new Error(`streets: ${r.status}`);
        return r.json();
      })
      .then((collection) => {
        const lines = collection.features.filter((f) => f.geometry.type === "LineString");
        const points = collection.features.filter((f) => f.geometry.type === "Point");
        L.geoJSON(lines, { style: { className: "street-casing", weight: 10, color: "#c8c2b6", opacity: 1 } }).addTo(map);
        L.geoJSON(lines, { style: { className: "street", weight: 6, color: "#ffffff", opacity: 1 } }).addTo(map);
        // One name per street, on its longest segment, so a boulevard is not labelled five times.
        const longest = new Map();
        for (const f of lines) {
          const [a, b] = f.geometry.coordinates;
          const size = Math.hypot(a[0] - b[0], a[1] - b[1]);
          const name = f.properties.name;
          if (!longest.has(name) || longest.get(name).size < size) longest.set(name, { f, size });
        }
        for (const { f } of longest.values()) {
          const [a, b] = f.geometry.coordinates;
          L.tooltip({ permanent: true, direction: "center", className: "citymap-label street-label", pane: "labels" })
            .setLatLng([(a[1] + b[1]) / 2, (a[0] + b[0]) / 2])
            .setContent(f.properties.name)
            .addTo(map);
        }
        for (const f of points) {
          const [lon, lat] = f.geometry.coordinates;
          const kind = f.properties.kind === "site" ? "site" : "place";
          // A site's cameras stand on it: its name goes below them, clear of their wedges.
          const where = kind === "site" ? { direction: "bottom", offset: [0, WEDGE_PX - DOT_PX] } : { direction: "right" };
          L.circleMarker([lat, lon], { radius: 3, className: `citymap-${kind}`, color: "#6b6459", weight: 1, fillOpacity: 1 })
            .bindTooltip(f.properties.name, { permanent: true, className: `citymap-label ${kind}-label`, pane: "labels", ...where })
            .addTo(map);
        }
        return L.geoJSON(lines).getBounds();
      });
  }

  function overlay(map, url) {
    return fetch(url)
      .then((r) => r.json())
      .then((collection) =>
        L.geoJSON(collection, {
          pointToLayer: (feature, at) => L.circleMarker(at, { radius: 4, className: "citymap-overlay" }),
          onEachFeature: (feature, layer) => {
            if (feature.properties && feature.properties.name) layer.bindTooltip(String(feature.properties.name));
          },
        }).addTo(map),
      );
  }

  function caption(div, base) {
    const text = `Basemap: ${base.label}${base.attribution ? ` · ${base.attribution}` : ""}.`;
    const p = element("p", "citymap-caption", text);
    const legend = element("ul", "citymap-legend");
    for (const [kind, words] of KINDS) {
      legend.append(element("li", `key-kind kind-${kind}`, words));
    }
    legend.append(element("li", "key-wedge", "wedge: viewing direction and field of view"));
    div.after(legend);
    legend.after(p);
  }

  function draw(div, base) {
    let points = [];
    try {
      points = JSON.parse(div.dataset.points || "[]");
    } catch (err) {
      div.textContent = "The map cannot be drawn: its camera list is not valid.";
      return;
    }
    points = points.filter((p) => Number.isFinite(Number(p.lat)) && Number.isFinite(Number(p.lon)));
    div.classList.add(`basemap-${safeToken(base.kind)}`);
    const map = L.map(div, { maxZoom: base.max_zoom });
    div.citymap = map;
    map.createPane("labels"); // names sit under the cameras (citymap.css), never on top of one
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    const labels = () => div.classList.toggle("citymap-far", map.getZoom() < LABELS_FROM_ZOOM);
    map.on("zoomend", labels);
    let basemapBounds = Promise.resolve(null);
    if (base.kind === "streets") {
      map.attributionControl.addAttribution(base.attribution);
      basemapBounds = streetsLayer(map, base.url);
    } else {
      const options = { attribution: base.attribution, maxZoom: base.max_zoom };
      if (base.subdomains) options.subdomains = base.subdomains;
      L.tileLayer(base.url, options).addTo(map);
    }
    const fov = Number(base.fov_deg) || 60;
    const group = L.markerClusterGroup({
      disableClusteringAtZoom: base.cluster_until_zoom,
      showCoverageOnHover: false,
      maxClusterRadius: 40,
    });
    for (const point of points) group.addLayer(cameraMarker(point, fov));
    group.addTo(map);
    if (div.dataset.line === "1" && points.length > 1) {
      L.polyline(points.map((p) => [p.lat, p.lon]), { className: "citymap-line", weight: 4, dashArray: "8 6" }).addTo(map);
    }
    const extra = div.dataset.geojson && div.dataset.geojson.startsWith("/") ? overlay(map, div.dataset.geojson) : null;
    const pointBounds = L.latLngBounds(points.map((p) => [p.lat, p.lon]));
    const fit = (bounds) => {
      if (bounds && bounds.isValid()) map.fitBounds(bounds, { padding: [FIT_PADDING_PX, FIT_PADDING_PX], maxZoom: base.cluster_until_zoom });
      else map.setView([0, 0], 2);
    };
    // Every camera in view, however far apart: the map zooms out rather than squeezing them.
    if (pointBounds.isValid()) fit(pointBounds);
    labels();
    Promise.all([basemapBounds, extra]).then(([streets, layer]) => {
      if (!pointBounds.isValid()) fit(streets || (layer && layer.getBounds()));
      labels();
      div.dataset.ready = "1";
    });
    caption(div, base);
  }

  function start() {
    const divs = document.querySelectorAll("div.citymap");
    if (divs.length === 0) return;
    basemap()
      .then((base) => divs.forEach((div) => draw(div, base)))
      .catch((err) => {
        divs.forEach((div) => {
          div.textContent = `The map cannot be drawn (${err.message}).`;
        });
      });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
