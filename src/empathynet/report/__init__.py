"""A static HTML report of a dataset: ``write_report(dataset)`` -> ``reports/index.html``.

One self-contained page (inline CSS, no JavaScript, no network) with the build summary,
the accepted cue groups and their media (relative links, so it works over ``file://``),
the rejected and failed rows per reason, the tasks and, when given, the leaderboard.
"""

from empathynet.report.html import (
    REPORT_NAME,
    escape_text,
    media_href,
    render_report,
    write_report,
)

__all__ = ["REPORT_NAME", "escape_text", "media_href", "render_report", "write_report"]
