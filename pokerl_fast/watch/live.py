"""A live map of a training run in the browser: ``python -m pokerl_fast.train --live-map [PORT]``.

The trainer serves one local page on 127.0.0.1 only (the standard library's ``http.server`` in a daemon thread;
no CDN, no third-party host, every asset inline): the Kanto map painted from what the envs saw (the picture
``explored_map.png`` shows, redrawn at most every MAP_SECONDS), every env's current position and recent trail
over it, refreshed four times a second, and the run's step, steps/s and milestones.

``/`` the page; ``/state.json`` positions (global steps), step, steps/s, milestones, and the map's version and
geometry; ``/map.png`` the current map picture. The page keeps ``window.liveMap`` (the last state it drew) for
tests and tools.
"""

from __future__ import annotations

import io
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
 body { background:#0c0c14; color:#ddd; font:14px sans-serif; margin:0; display:flex; }
 #view { position:relative; margin:12px; }
 #map { display:block; image-rendering:pixelated; }
 #marks { position:absolute; left:0; top:0; }
 #side { margin:12px; min-width:260px; }
 h1 { font-size:16px; margin:0 0 8px; } td { padding:1px 8px 1px 0; } .dim { color:#888; }
</style></head>
<body>
<div id="view"><img id="map" alt="map"><canvas id="marks"></canvas></div>
<div id="side"><h1>pokerl_fast</h1>
 <div>step <b id="step">-</b></div><div><b id="sps">-</b> steps/s</div><div id="envs" class="dim"></div>
 <h1 style="margin-top:12px">milestones</h1><table id="milestones"><tr><td class="dim">none yet</td></tr></table>
</div>
<script>
const img = document.getElementById("map"), marks = document.getElementById("marks");
const trails = [];
let version = -1;
window.liveMap = {polls: 0};
function colour(i) { return "hsl(" + ((i * 137) % 360) + ",90%,60%)"; }
function draw(s) {
  const g = s.map, ctx = marks.getContext("2d");
  marks.width = img.naturalWidth; marks.height = img.naturalHeight;
  ctx.clearRect(0, 0, marks.width, marks.height);
  const px = (p) => [(p[0] - g.x0 + 0.5) * g.px, (p[1] - g.y0 + 0.5) * g.px];
  const screen = [];
  s.positions.forEach((p, i) => {
    trails[i] = trails[i] || [];
    if (p) { trails[i].push(p); if (trails[i].length > 40) trails[i].shift(); }
    ctx.strokeStyle = colour(i); ctx.lineWidth = 2; ctx.beginPath();
    trails[i].forEach((q, k) => {  // a jump (a warp, a swarm move) starts a new line
      const [x, y] = px(q), prev = trails[i][k - 1];
      k && Math.abs(prev[0] - q[0]) + Math.abs(prev[1] - q[1]) <= 4 ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
    if (p) {
      const [x, y] = px(p); screen.push([x, y]);
      ctx.fillStyle = colour(i); ctx.beginPath(); ctx.arc(x, y, Math.max(3, g.px / 2), 0, 7); ctx.fill();
      ctx.strokeStyle = "#000"; ctx.lineWidth = 1; ctx.stroke();
    } else screen.push(null);
  });
  window.liveMap.markers = screen;
}
async function poll() {
  try {
    const s = await (await fetch("state.json", {cache: "no-store"})).json();
    document.getElementById("step").textContent = s.step.toLocaleString();
    document.getElementById("sps").textContent = Math.round(s.sps);
    document.getElementById("envs").textContent = s.positions.length + " envs";
    const rows = Object.entries(s.milestones);
    document.getElementById("milestones").innerHTML = rows.length ? rows.map(([n, st]) =>
      "<tr><td>" + n + "</td><td class=dim>step " + st.toLocaleString() + "</td></tr>").join("") :
      "<tr><td class=dim>none yet</td></tr>";
    if (s.map.version !== version) {
      version = s.map.version;
      await new Promise((ok) => { img.onload = ok; img.onerror = ok; img.src = "map.png?v=" + version; });
    }
    draw(s);
    window.liveMap.state = s; window.liveMap.polls += 1;
  } catch (e) { window.liveMap.error = String(e); }
  setTimeout(poll, 250);
}
poll();
</script></body></html>
"""


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
                    live._send(self, PAGE.encode(), "text/html; charset=utf-8")
                elif path == "/state.json":
                    live._send(self, json.dumps(live.snapshot()).encode(), "application/json")
                elif path == "/map.png":
                    live._refresh_map()
                    live._send(self, live._png, "image/png")
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

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, body: bytes, kind: str) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        handler.wfile.write(body)

    def _refresh_map(self) -> None:
        with self._lock:
            if time.monotonic() - self._drawn < MAP_SECONDS and self._png:
                return
            from PIL import Image

            rgb, geometry = self._picture()
            buf = io.BytesIO()
            Image.fromarray(rgb).save(buf, format="PNG")
            self._png, self._geometry, self._drawn = buf.getvalue(), geometry, time.monotonic()
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
