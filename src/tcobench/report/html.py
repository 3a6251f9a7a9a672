"""One self-contained HTML page: inline CSS, charts as inline SVG, no scripts, fonts or requests.

Rendered with jinja2 and autoescape on: every string from a run (model names from endpoints, claim
text, URLs) is escaped, so a ``<script>`` in a model name shows as text. The only markup inserted
unescaped is the SVG that matplotlib writes, which escapes its own text.
"""

from __future__ import annotations

from typing import Any

from tcobench.report.document import Report
from tcobench.report.tables import Expandable

CSS = """
:root { --ink:#1d2330; --muted:#5b6473; --rule:#e3e6eb; --accent:#1f6feb; --bg:#ffffff; --panel:#f6f8fa; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; }
main, header.top, footer { max-width: 1080px; margin: 0 auto; padding: 0 24px; }
header.top { padding-top: 28px; padding-bottom: 8px; border-bottom: 1px solid var(--rule); }
header.top h1 { margin: 0 0 4px; font-size: 26px; letter-spacing: -0.01em; }
header.top p.meta { margin: 0; color: var(--muted); font-size: 13px; }
nav.toc { margin: 12px 0 4px; display:flex; flex-wrap:wrap; gap:8px; }
nav.toc a { color: var(--accent); text-decoration:none; border:1px solid var(--rule); border-radius: 999px; padding: 2px 12px; font-size: 13px; }
section.report { margin: 28px 0 36px; }
section.report > h2 { font-size: 21px; margin: 0 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--ink); }
article.part { margin: 16px 0 26px; }
article.part h3 { font-size: 16px; margin: 0 0 6px; }
p.reading { background: var(--panel); border-left: 3px solid var(--accent); padding: 10px 14px; margin: 8px 0 14px; max-width: 920px; }
figure { margin: 10px 0 18px; }
figure svg { width: 100%; height: auto; max-width: 900px; display: block; }
figcaption { color: var(--muted); font-size: 12px; }
.table-wrap { overflow-x: auto; margin: 8px 0 16px; }
table { border-collapse: collapse; font-size: 13px; min-width: 50%; }
caption { text-align: left; font-weight: 600; padding: 4px 0 6px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
details summary { cursor: pointer; }
details ol { margin: 6px 0 4px 18px; padding: 0; font-size: 12.5px; }
details li { margin-bottom: 4px; }
details code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
details ul { margin: 2px 0 2px 14px; padding: 0; color: var(--muted); }
ul.notes { color: var(--muted); font-size: 12.5px; margin: 4px 0 0 18px; padding: 0; }
td[class^="verdict-"] { font-weight: 600; white-space: nowrap; }
td.verdict-consistent { color: #1a7f37; }
td.verdict-overstated, td.verdict-understated { color: #cf222e; }
td.verdict-unit-mismatch, td.verdict-precision-mismatch { color: #9a6700; }
td.verdict-unverifiable { color: var(--muted); }
footer { border-top: 1px solid var(--rule); padding-top: 12px; padding-bottom: 32px; color: var(--muted); font-size: 12.5px; }
footer h2 { font-size: 15px; color: var(--ink); margin: 6px 0; }
footer table { font-size: 12px; }
p.empty { color: var(--muted); }
@media print {
  body { font-size: 11pt; }
  nav.toc { display: none; }
  section.report, article.part, figure, table { break-inside: avoid; }
  details { display: block; }
  details > *:not(summary) { display: block; }
  .table-wrap { overflow: visible; }
}
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="tcobench {{ report.provenance.tool_version }}">
<title>{{ report.title }}</title>
<style>{{ css }}</style>
</head>
<body>
<header class="top">
<h1>{{ report.title }}</h1>
<p class="meta">Generated {{ report.provenance.generated.strftime("%Y-%m-%d %H:%M UTC") }} by tcobench {{ report.provenance.tool_version }}
from {{ report.provenance.runs | length }} saved run{{ "" if report.provenance.runs | length == 1 else "s" }}
({% for r in report.provenance.runs %}{{ r.command }} {{ r.id }}{{ ", " if not loop.last }}{% endfor %}).</p>
{% if report.sections %}<nav class="toc" aria-label="sections">{% for s in report.sections %}<a href="#{{ s.id }}">{{ s.title }}</a>{% endfor %}<a href="#provenance">Provenance</a></nav>{% endif %}
</header>
<main>
{% if not report.sections %}<p class="empty">None of the selected runs holds data a report can show.</p>{% endif %}
{% for s in report.sections %}
<section class="report" id="{{ s.id }}">
<h2>{{ s.title }}</h2>
{% for p in s.parts %}
<article class="part">
<h3>{{ p.title }}</h3>
<p class="reading">{{ p.reading }}</p>
{% for c in p.charts %}
<figure id="fig-{{ c.name }}">{{ svgs[c.name] }}<figcaption>Figure: {{ c.title }} ({{ c.name }})</figcaption></figure>
{% endfor %}
{% for t in p.tables %}
<div class="table-wrap"><table>
<caption>{{ t.caption }}</caption>
<thead><tr>{% for col in t.columns %}<th{% if loop.index0 in t.numeric %} class="num"{% endif %} scope="col">{{ col }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in t.rows %}<tr>{% for cell in row %}{% set cls = t.css_class(loop.index0, cell) %}<td{% if cls %} class="{{ cls }}"{% endif %}>
{%- if cell is expandable -%}
<details><summary>{{ cell.summary }}</summary>{% if cell.steps %}<ol>{% for st in cell.steps %}<li><code>{{ st.formula }}</code>
<ul>{% for x in st.inputs %}<li>{{ x }}</li>{% endfor %}</ul><strong>{{ st.result }}</strong></li>{% endfor %}</ol>{% else %}<p>No derivation: an input is missing.</p>{% endif %}</details>
{%- else -%}{{ cell }}{%- endif -%}
</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table></div>
{% endfor %}
{% if p.notes %}<ul class="notes">{% for n in p.notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
</article>
{% endfor %}
</section>
{% endfor %}
</main>
<footer id="provenance">
<h2>Provenance</h2>
<p>tcobench {{ report.provenance.tool_version }}; results store {{ report.provenance.store or "(in memory)" }}.</p>
<div class="table-wrap"><table>
<caption>Runs used</caption>
<thead><tr><th>run</th><th>command</th><th>provenance</th><th>created (UTC)</th><th>tcobench</th><th>label</th></tr></thead>
<tbody>{% for r in report.provenance.runs %}<tr><td>{{ r.id }}</td><td>{{ r.command }}</td><td>{{ r.provenance }}</td>
<td>{{ r.created.strftime("%Y-%m-%d %H:%M:%S") }}</td><td>{{ r.tool_version }}</td><td>{{ r.label }}</td></tr>{% endfor %}</tbody>
</table></div>
{% if report.provenance.sources %}
<div class="table-wrap"><table>
<caption>Catalog sources behind these numbers</caption>
<thead><tr><th>id</th><th>source</th></tr></thead>
<tbody>{% for s in report.provenance.sources %}<tr><td>{{ s.id }}</td><td>{% if s.url and s.url.startswith(("https://", "http://")) %}<a href="{{ s.url }}" rel="noreferrer">{{ s.title }}</a>{% else %}{{ s.title }}{% endif %}{% if s.locator %}, {{ s.locator }}{% endif %}</td></tr>{% endfor %}</tbody>
</table></div>
{% endif %}
{% for note in report.skipped %}<p>Not shown: {{ note }}.</p>{% endfor %}
</footer>
</body>
</html>
"""


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False, lstrip_blocks=False)
    env.tests["expandable"] = lambda v: isinstance(v, Expandable)
    return env


def render_html(report: Report) -> str:
    """The whole report as one HTML document (UTF-8 text)."""
    from markupsafe import Markup

    from tcobench.report.plots import inline_svg

    svgs = {c.name: Markup(inline_svg(c)) for c in report.charts}  # matplotlib escapes the text it writes
    return str(_environment().from_string(TEMPLATE).render(report=report, css=Markup(CSS), svgs=svgs))
