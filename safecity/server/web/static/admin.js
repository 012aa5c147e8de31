// Counting lines on a camera's still: click two points for a line, or add one by coordinates;
// the table is the source of truth and is written as CountingGeometry JSON when the form is sent.
(function () {
  "use strict";
  const form = document.getElementById("counting-form");
  if (!form) { return; }
  const body = document.querySelector("#counting-lines tbody");
  const hidden = document.getElementById("counting-json");
  const img = document.getElementById("still");
  const canvas = document.getElementById("still-canvas");
  let geometry = {};
  try { geometry = JSON.parse(form.dataset.counting || "{}") || {}; } catch (e) { geometry = {}; }
  let pending = null;

  function cell(value, name, type) {
    const td = document.createElement("td");
    const input = document.createElement("input");
    input.name = name; input.type = type; input.value = value; input.required = true;
    input.setAttribute("aria-label", name);
    if (type === "number") { input.step = "any"; }
    input.addEventListener("input", draw);
    td.appendChild(input);
    return td;
  }

  function addRow(line) {
    const tr = document.createElement("tr");
    tr.appendChild(cell(line.name, "line-name", "text"));
    const [[x1, y1], [x2, y2]] = line.points;
    [[x1, "x1"], [y1, "y1"], [x2, "x2"], [y2, "y2"]].forEach(([v, n]) => tr.appendChild(cell(Math.round(v), n, "number")));
    tr.appendChild(cell(line.in_direction || "in", "in", "text"));
    tr.appendChild(cell(line.out_direction || "out", "out", "text"));
    const td = document.createElement("td");
    const remove = document.createElement("button");
    remove.type = "button"; remove.textContent = "Remove"; remove.className = "danger";
    remove.addEventListener("click", () => { tr.remove(); draw(); });
    td.appendChild(remove); tr.appendChild(td);
    body.appendChild(tr);
    draw();
  }

  function lines() {
    return Array.from(body.querySelectorAll("tr")).map((tr) => {
      const v = (n) => tr.querySelector(`[name="${n}"]`).value;
      return {
        name: v("line-name"),
        points: [[Number(v("x1")), Number(v("y1"))], [Number(v("x2")), Number(v("y2"))]],
        in_direction: v("in"), out_direction: v("out"),
      };
    });
  }

  function scale() { return img && img.naturalWidth ? img.clientWidth / img.naturalWidth : 1; }

  function draw() {
    if (!canvas || !img) { return; }
    canvas.width = img.clientWidth; canvas.height = img.clientHeight;
    const ctx = canvas.getContext("2d");
    const k = scale();
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.lineWidth = 3; ctx.font = "14px sans-serif";
    lines().forEach((l) => {
      const [[x1, y1], [x2, y2]] = l.points;
      ctx.strokeStyle = "#ffd400"; ctx.fillStyle = "#ffd400";
      ctx.beginPath(); ctx.moveTo(x1 * k, y1 * k); ctx.lineTo(x2 * k, y2 * k); ctx.stroke();
      ctx.fillText(l.name, x1 * k + 4, y1 * k - 6);
    });
    if (pending) {
      ctx.fillStyle = "#ff3b30";
      ctx.beginPath(); ctx.arc(pending[0] * k, pending[1] * k, 5, 0, 2 * Math.PI); ctx.fill();
    }
  }

  (geometry.lines || []).forEach(addRow);
  document.getElementById("add-line").addEventListener("click", () => {
    addRow({ name: `line-${body.children.length + 1}`, points: [[0, 0], [100, 0]] });
  });
  if (canvas && img) {
    const ready = () => draw();
    if (img.complete) { ready(); } else { img.addEventListener("load", ready); }
    window.addEventListener("resize", draw);
    canvas.addEventListener("click", (ev) => {
      const r = canvas.getBoundingClientRect();
      const k = scale();
      const p = [(ev.clientX - r.left) / k, (ev.clientY - r.top) / k];
      if (!pending) { pending = p; draw(); return; }
      addRow({ name: `line-${body.children.length + 1}`, points: [pending, p] });
      pending = null; draw();
    });
  }
  form.addEventListener("submit", () => {
    hidden.value = JSON.stringify(Object.assign({}, geometry, { lines: lines() }));
  });
}());
