"""``layerlens report``: one engine (and its baseline) as a self-contained, offline HTML file.

:func:`build_report` gathers the analyses (:mod:`~layerlens.views.report.build`);
:func:`render_html` writes them out (:mod:`~layerlens.views.report.html`). The CLI and
the dashboard's "Report" button both call :func:`write_report`.
"""

from __future__ import annotations

from pathlib import Path

from layerlens.views.report.build import Report, build_report
from layerlens.views.report.html import render_html
from engine_core.engine import Engine


def report_html(engine: Engine, baseline: Engine | None = None) -> str:
    return render_html(build_report(engine, baseline))


def write_report(engine: Engine, baseline: Engine | None, out: str | Path) -> Report:
    """Build the report and write it atomically to ``out`` (a half-written report never replaces a good one)."""
    report = build_report(engine, baseline)
    out = Path(out)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(render_html(report), encoding="utf-8")
    partial.replace(out)
    return report


__all__ = ["Report", "build_report", "render_html", "report_html", "write_report"]
