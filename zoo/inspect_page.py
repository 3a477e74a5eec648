"""``zoo inspect --html``: one self-contained page (inline data, style and script; no network).

The text is coloured by one unit's activation (white at 0, red positive, blue negative, full
colour at the unit's largest |activation| over the text), with a unit switch; hovering a token
shows the model's top predictions there and the probability it gave the true next token; a
ranked list names the units worth a look, with a reason each; models with gates get a
gate-saturation view (each unit's share of steps below 0.1 and above 0.9).

Size: every unit's activation is stored as one signed byte per step (base64), so the page grows
by about 1.35 bytes x units per step (~3.5 MB for 10k characters of a 256-unit LSTM).
"""

from __future__ import annotations

import base64
import ctypes
import html
import json

import torch

from zoo.inspect_report import summary_line
from zoo.inspection import Trace
from zoo.units import gate_saturation, suggest

TOP = 5
SVG = 180


def quantized(h: torch.Tensor) -> tuple[str, list[float]]:
    """(time, units) activations -> base64 of int8 values (row-major) and each unit's scale:
    the value is ``q / 127 * scale``."""
    scale = h.abs().amax(0).clamp(min=1e-12)
    q = (h / scale * 127).round().clamp(-127, 127).to(torch.int8).contiguous()
    raw = ctypes.string_at(q.data_ptr(), q.numel()) if q.numel() else b""  # the bytes, without numpy
    return base64.b64encode(raw).decode("ascii"), [float(s) for s in scale]


def _data(trace: Trace, unit: int) -> dict[str, object]:
    top_p, top_i = trace.probs.topk(min(TOP, len(trace.classes)), dim=-1)
    data: dict[str, object] = {
        "classes": trace.classes,
        "inputs": trace.inputs,
        "targets": trace.targets,
        "p_target": _p_targets(trace),
        "top_i": top_i.tolist(),
        "top_p": ((top_p * 1000).round() / 1000).tolist(),
        "units": trace.units,
        "unit": unit,
    }
    if "h" in trace.internals:
        data["h"], data["scale"] = quantized(trace.internals["h"])
    return data


def _p_targets(trace: Trace) -> list[float | None]:
    known = [t for t in range(trace.time) if trace.targets[t] is not None]
    out: list[float | None] = [None] * trace.time
    if known:
        index = torch.tensor(known)
        p = trace.probs[index, torch.tensor([trace.targets[t] for t in known])]
        for t, value in zip(known, ((p * 10000).round() / 10000).tolist(), strict=True):
            out[t] = value
    return out


def _gate_svg(name: str, left: torch.Tensor, right: torch.Tensor) -> str:
    """A scatter of units: x = share of steps left-saturated (< 0.1), y = right-saturated (> 0.9)."""
    dots = []
    for u, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        x, y = 20 + a * (SVG - 30), SVG - 20 - b * (SVG - 30)
        dots.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" data-unit="{u}">'
                    f"<title>unit {u}: &lt;0.1 on {a:.0%} of steps, &gt;0.9 on {b:.0%}</title></circle>")
    return (f'<figure class="gate"><svg width="{SVG}" height="{SVG}" viewBox="0 0 {SVG} {SVG}">'
            f'<line x1="20" y1="{SVG - 20}" x2="{SVG - 10}" y2="{SVG - 20}"/><line x1="20" y1="10" x2="20" y2="{SVG - 20}"/>'
            f'<line class="diag" x1="20" y1="10" x2="{SVG - 10}" y2="{SVG - 20}"/>{"".join(dots)}</svg>'
            f"<figcaption>{html.escape(name)} gate<br><small>x: share &lt;0.1, y: share &gt;0.9</small></figcaption></figure>")


def page(trace: Trace, title: str, unit: int | None = None) -> str:
    """The whole HTML page for ``trace``; ``unit`` is the one coloured first (default: the best
    suggestion)."""
    ranked = suggest(trace.internals["h"], trace.inputs, limit=12) if "h" in trace.internals else []
    if unit is None:
        unit = ranked[0].unit if ranked else 0
    spans = []
    for i, token in enumerate(trace.inputs):
        shown = html.escape("\u21b5\n" if token == "\n" else token)
        spans.append(f'<span id="s{i}">{shown}</span>')
    items = "".join(f'<li><a href="#" data-unit="{s.unit}">unit {s.unit}</a>: {html.escape(s.reason)}</li>'
                    for s in ranked)
    gates = "".join(_gate_svg(name, left, right) for name, (left, right) in gate_saturation(trace.gates).items())
    gate_section = (f'<section id="gates"><h2>Gate saturation</h2><p>One dot per unit: how often each gate '
                    f"is nearly shut (&lt; 0.1, right) or wide open (&gt; 0.9, up).</p>{gates}</section>") if gates else ""
    data = json.dumps(_data(trace, unit), ensure_ascii=True, separators=(",", ":")).replace("</", "<\\/")
    units_control = (f'<label>unit <input id="unit" type="number" min="0" max="{trace.units - 1}" value="{unit}"></label>'
                     '<button id="prev" type="button">&#9664;</button><button id="next" type="button">&#9654;</button>'
                     '<span class="legend"><span class="neg">negative</span> 0 <span class="pos">positive</span></span>'
                     ) if trace.units else "<em>this model reports no internals: predictions only</em>"
    ranked_section = (f'<section id="ranked"><h2>Units worth a look</h2><ol id="units">{items}</ol></section>'
                      if items else "")
    return _TEMPLATE.format(
        title=html.escape(title), summary=html.escape(summary_line(trace)), controls=units_control,
        spans="".join(spans), ranked=ranked_section, gates=gate_section, data=data, script=_SCRIPT,
    )


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
#text {{ font-family: monospace; font-size: 14px; line-height: 1.6; white-space: pre-wrap; word-break: break-all;
         border: 1px solid #ccc; padding: .8em; max-width: 70em; }}
#text span {{ cursor: default; }}
#text span.on {{ outline: 1px solid #000; }}
#controls {{ margin: .8em 0; display: flex; gap: .6em; align-items: center; }}
#unit {{ width: 5em; }}
.legend .neg {{ background: #00f; color: #fff; padding: 0 .3em; }} .legend .pos {{ background: #f00; color: #fff; padding: 0 .3em; }}
#hover {{ position: fixed; right: 1em; top: 1em; width: 17em; background: #fffff4; border: 1px solid #999;
          padding: .5em; font-family: monospace; font-size: 13px; white-space: pre; }}
svg line {{ stroke: #888; }} svg line.diag {{ stroke-dasharray: 3 3; }} svg circle {{ fill: #c33; fill-opacity: .6; }}
figure.gate {{ display: inline-block; margin: 0 1em 1em 0; text-align: center; }}
</style></head>
<body>
<h1>{title}</h1>
<p id="summary">{summary}</p>
<div id="controls">{controls}</div>
<div id="text">{spans}</div>
<div id="hover">hover a character</div>
{ranked}
{gates}
<script type="application/json" id="data">{data}</script>
<script>{script}</script>
</body></html>
"""

_SCRIPT = r"""
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const T = D.inputs.length, U = D.units;
let H = null;
if (D.h !== undefined) {
  const raw = atob(D.h), bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  H = new Int8Array(bytes.buffer);
}
const spans = [];
for (let i = 0; i < T; i++) spans.push(document.getElementById("s" + i));
function value(t, u) { return H[t * U + u] / 127 * D.scale[u]; }
function colour(v, scale) {
  const a = Math.max(-1, Math.min(1, scale > 0 ? v / scale : 0));
  const fade = Math.round(255 * (1 - Math.abs(a)));
  return a >= 0 ? [255, fade, fade] : [fade, fade, 255];
}
function show(u) {
  if (H === null || !(u >= 0 && u < U)) return;
  D.unit = u;
  document.getElementById("unit").value = u;
  for (let t = 0; t < T; t++) {
    const v = value(t, u), c = colour(v, D.scale[u]);
    spans[t].dataset.v = v.toFixed(5);
    spans[t].style.backgroundColor = "rgb(" + c.join(",") + ")";
  }
}
function name(tok) { return tok === "\n" ? "\\n" : tok === " " ? "\u2423" : tok; }
function hover(t) {
  let s = "step " + t + "  input " + name(D.inputs[t]) + "\n";
  if (D.targets[t] !== null) s += "next " + name(D.classes[D.targets[t]]) + "  p = " + D.p_target[t].toFixed(3) + "\n";
  s += "top predictions:\n";
  for (let k = 0; k < D.top_i[t].length; k++) s += "  " + name(D.classes[D.top_i[t][k]]) + "  " + D.top_p[t][k].toFixed(3) + "\n";
  if (H !== null) s += "unit " + D.unit + " = " + value(t, D.unit).toFixed(3);
  document.getElementById("hover").textContent = s;
}
document.getElementById("text").addEventListener("mouseover", (e) => {
  const id = e.target.id;
  if (id && id[0] === "s") hover(parseInt(id.slice(1), 10));
});
if (H !== null) {
  const box = document.getElementById("unit");
  box.addEventListener("change", () => show(parseInt(box.value, 10)));
  document.getElementById("prev").addEventListener("click", () => show(Math.max(0, D.unit - 1)));
  document.getElementById("next").addEventListener("click", () => show(Math.min(U - 1, D.unit + 1)));
  document.querySelectorAll("a[data-unit]").forEach((a) => a.addEventListener("click", (e) => {
    e.preventDefault(); show(parseInt(a.dataset.unit, 10));
  }));
  show(D.unit);
}
"""
