"""A live map of a training run in the browser: ``python -m pokerl_fast.train --live-map [PORT]``.

The trainer serves one local page on 127.0.0.1 only (the standard library's ``http.server`` in a daemon thread;
no CDN, no third-party host, every asset inline): the Kanto map painted from what the envs saw (the picture
``explored_map.png`` shows, redrawn at most every MAP_SECONDS), every env's current position and recent trail
(the run's own, a sample every step) over it, refreshed four times a second, and the run's step, steps/s and
milestones. The map fills the window; the wheel zooms, a drag pans, "fit" shows it whole and "follow" keeps one
env's marker in the middle.

``/`` the page; ``/state.json`` positions and trails (global steps), step, steps/s, milestones, and the map's
version and geometry; ``/map.png`` the current map picture. The page keeps ``window.liveMap`` (the last state it
drew, the markers, the view, and ``zoomBy``, ``fit``, ``followEnv``) for tests and tools.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import numpy as np

MAP_SECONDS = 3.0
"""The map picture is redrawn at most this often (the positions move every poll)."""

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>pokerl_fast live map</title>
<style>
 html, body { height:100%; }
 body { background:#0c0c14; color:#ddd; font:14px sans-serif; margin:0; display:flex; overflow:hidden; }
 #view { position:relative; flex:1; overflow:hidden; cursor:grab; }
 #stage { position:absolute; left:0; top:0; transform-origin:0 0; }
 #map { display:block; image-rendering:pixelated; }
 #marks { position:absolute; left:0; top:0; }
 #side { margin:12px; width:260px; flex:none; overflow:auto; }
 #tools button, #tools select { background:#1c1c2c; color:#ddd; border:1px solid #445; margin:2px 2px 2px 0; }
 h1 { font-size:16px; margin:0 0 8px; } td { padding:1px 8px 1px 0; word-break:break-all; } .dim { color:#888; }
</style></head>
<body>
<div id="view"><div id="stage"><img id="map" alt="map"><canvas id="marks"></canvas></div></div>
<div id="side"><h1>pokerl_fast</h1>
 <div>step <b id="step">-</b></div><div><b id="sps">-</b> steps/s</div><div id="envs" class="dim"></div>
 <div id="tools" style="margin-top:10px"><button id="zin" title="zoom in">+</button><button id="zout"
  title="zoom out">&minus;</button><button id="fit" title="the whole map">fit</button>
  follow <select id="follow"><option value="-1">nobody</option></select></div>
 <div class="dim" style="margin-top:4px">wheel: zoom, drag: pan</div>
 <h1 style="margin-top:12px">milestones</h1><table id="milestones"><tr><td class="dim">none yet</td></tr></table>
</div>
<script>
const img = document.getElementById("map"), marks = document.getElementById("marks");
const viewEl = document.getElementById("view"), stage = document.getElementById("stage");
const followSel = document.getElementById("follow");
const polled = [];  // trails from the polls, when the run sends none (the map is not painted)
let version = -1, last = null, drag = null;
const view = {z: 1, tx: 0, ty: 0, follow: -1, touched: false};
window.liveMap = {polls: 0};
function colour(i) { return "hsl(" + ((i * 137) % 360) + ",90%,60%)"; }
function apply() {
  stage.style.transform = "translate(" + view.tx + "px," + view.ty + "px) scale(" + view.z + ")";
  window.liveMap.view = Object.assign({}, view);
}
function fit() {
  const W = viewEl.clientWidth, H = viewEl.clientHeight, w = img.naturalWidth, h = img.naturalHeight;
  if (!w || !h) return;
  view.z = Math.min(W / w, H / h); view.tx = (W - w * view.z) / 2; view.ty = (H - h * view.z) / 2;
  apply();
}
function zoomBy(f, cx, cy) {
  if (cx === undefined) { cx = viewEl.clientWidth / 2; cy = viewEl.clientHeight / 2; }
  view.tx = cx - (cx - view.tx) * f; view.ty = cy - (cy - view.ty) * f; view.z *= f; view.touched = true; apply();
}
function followEnv(i) { view.follow = i; followSel.value = String(i); if (last) draw(last); }
function centre() {
  const m = window.liveMap.markers && window.liveMap.markers[view.follow];
  if (view.follow < 0 || !m) return;
  view.tx = viewEl.clientWidth / 2 - m[0] * view.z; view.ty = viewEl.clientHeight / 2 - m[1] * view.z; apply();
}
viewEl.addEventListener("wheel", (e) => {
  e.preventDefault(); const r = viewEl.getBoundingClientRect();
  zoomBy(e.deltaY < 0 ? 1.25 : 0.8, e.clientX - r.left, e.clientY - r.top);
}, {passive: false});
viewEl.addEventListener("mousedown", (e) => { drag = {x: e.clientX, y: e.clientY, tx: view.tx, ty: view.ty}; });
window.addEventListener("mouseup", () => { drag = null; });
window.addEventListener("mousemove", (e) => {
  if (!drag) return;
  view.tx = drag.tx + e.clientX - drag.x; view.ty = drag.ty + e.clientY - drag.y; view.touched = true;
  followEnv(-1); apply();
});
window.addEventListener("resize", () => { if (!view.touched) fit(); });
document.getElementById("zin").onclick = () => zoomBy(1.5);
document.getElementById("zout").onclick = () => zoomBy(1 / 1.5);
document.getElementById("fit").onclick = () => { view.touched = false; followEnv(-1); fit(); };
followSel.onchange = () => followEnv(parseInt(followSel.value, 10));
Object.assign(window.liveMap, {zoomBy: zoomBy, fit: fit, followEnv: followEnv});
function draw(s) {
  const g = s.map, ctx = marks.getContext("2d");
  marks.width = img.naturalWidth; marks.height = img.naturalHeight;
  ctx.clearRect(0, 0, marks.width, marks.height);
  const px = (p) => [(p[0] - g.x0 + 0.5) * g.px, (p[1] - g.y0 + 0.5) * g.px];
  const screen = [];
  s.positions.forEach((p, i) => {
    let trail = s.trails ? s.trails[i] : null;
    if (!trail) {  // no trails sent: the polls' positions (a jump of over 4 steps starts a new line)
      polled[i] = polled[i] || [];
      if (p) { polled[i].push(p); if (polled[i].length > 40) polled[i].shift(); }
      trail = polled[i];
    }
    const near = s.trails ? 1 : 4;  // the run's trails have a sample every step: a line joins neighbours only
    ctx.strokeStyle = colour(i); ctx.lineWidth = Math.max(1, g.px / 4); ctx.beginPath();
    trail.forEach((q, k) => {
      const prev = trail[k - 1];
      if (!q) return;
      const [x, y] = px(q);
      prev && Math.abs(prev[0] - q[0]) + Math.abs(prev[1] - q[1]) <= near ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
    if (p) {
      const [x, y] = px(p); screen.push([x, y]);
      ctx.fillStyle = colour(i); ctx.beginPath(); ctx.arc(x, y, Math.max(3, g.px / 2), 0, 7); ctx.fill();
      ctx.strokeStyle = "#000"; ctx.lineWidth = 1; ctx.stroke();
    } else screen.push(null);
  });
  window.liveMap.markers = screen;
  centre();
}
async function poll() {
  try {
    const s = await (await fetch("state.json", {cache: "no-store"})).json();
    document.getElementById("step").textContent = s.step.toLocaleString();
    document.getElementById("sps").textContent = Math.round(s.sps);
    document.getElementById("envs").textContent = s.positions.length + " envs";
    while (followSel.options.length < s.positions.length + 1) {
      const o = document.createElement("option"); o.value = String(followSel.options.length - 1);
      o.textContent = "env " + o.value; followSel.appendChild(o);
    }
    const rows = Object.entries(s.milestones);
    document.getElementById("milestones").innerHTML = rows.length ? rows.map(([n, st]) =>
      "<tr><td>" + n + "</td><td class=dim>step " + st.toLocaleString() + "</td></tr>").join("") :
      "<tr><td class=dim>none yet</td></tr>";
    if (s.map.version !== version) {
      version = s.map.version;
      await new Promise((ok) => { img.onload = ok; img.onerror = ok; img.src = "map.png?v=" + version; });
      if (!view.touched && view.follow < 0) fit();
    }
    last = s; draw(s);
    window.liveMap.state = s; window.liveMap.polls += 1;
  } catch (e) { window.liveMap.error = String(e); }
  setTimeout(poll, 250);
}
poll();
</script></body></html>
"""


def send_body(handler: BaseHTTPRequestHandler, body: bytes, kind: str) -> None:
    """A 200 answer of ``kind`` that no browser caches (the live map's and the watch page's)."""
    handler.send_response(200)
    handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Cache-Control", "no-store")
    handler.end_headers()
    handler.wfile.write(body)


class LiveMap:
    """The page's server. ``state()`` returns {"step", "sps", "positions": [[gx, gy] or None per env],
    "milestones": {NAME: step}}; ``picture()`` returns (RGB array, (x0, y0, px)). Both are called from the
    server's threads."""

    def __init__(self, port: int, state: Callable[[], dict[str, Any]],
                 picture: Callable[[], tuple[np.ndarray, tuple[int, int, int]]]):
        self._state, self._picture = state, picture
        self._lock = threading.Lock()
        self._png, self._geometry, self._version, self._drawn = b"", (0, 0, 1), 0, -1e9
        live = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                path = self.path.split("?", 1)[0]
                if path in ("/", "/index.html"):
                    send_body(self, PAGE.encode(), "text/html; charset=utf-8")
                elif path == "/state.json":
                    send_body(self, json.dumps(live.snapshot()).encode(), "application/json")
                elif path == "/map.png":
                    live._refresh_map()
                    send_body(self, live._png, "image/png")
                else:
                    self.send_error(404)

            def log_message(self, *args):  # quiet: no line per request
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(target=self.server.serve_forever, name="live-map", daemon=True)
        self._thread.start()


    def _refresh_map(self) -> None:
        with self._lock:
            if time.monotonic() - self._drawn < MAP_SECONDS and self._png:
                return
            from pokerl_fast.watch.kanto_map import png_bytes

            rgb, geometry = self._picture()
            self._png, self._geometry, self._drawn = png_bytes(rgb), geometry, time.monotonic()
            self._version += 1

    def snapshot(self) -> dict[str, Any]:
        self._refresh_map()
        state = self._state()
        x0, y0, px = self._geometry
        state["map"] = {"version": self._version, "x0": x0, "y0": y0, "px": px}
        return state

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
