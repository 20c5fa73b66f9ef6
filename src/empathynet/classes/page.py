"""The HTML page of a class suggestion (``reports/classes/index.html``).

Static and self-contained (inline CSS, no JavaScript: each k is a ``<details>`` section,
the best one open), media linked relative to the page (``../../media/...``) so it works
over ``file://`` and when the dataset moves. Every text from the dataset is escaped; a
media path that would leave the dataset is not linked, nor is a missing file.
"""

from __future__ import annotations

from empathynet.classes.suggest import ClusterSummary, Example, KResult, Suggestion
from empathynet.errors import PathEscapeError
from empathynet.report.html import escape_text, media_href
from empathynet.store.layout import DatasetLayout

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#222;
 background:#fafafa;line-height:1.35;max-width:72em}
table{border-collapse:collapse;margin:.4em 0 1em;background:#fff}
th,td{border:1px solid #ddd;padding:.25em .55em;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.best td{background:#eef7ee}.muted{color:#777}
section.cluster{background:#fff;border:1px solid #ddd;padding:.4em .8em;margin:.6em 0}
img{height:96px;border:1px solid #ccc}summary{font-size:1.15em;font-weight:600;cursor:pointer}
"""


def _href(layout: DatasetLayout, relative: str | None) -> str | None:
    """The link from ``reports/classes/`` to a dataset media path, None if not linkable."""
    if not relative:
        return None
    try:
        href = media_href(layout, relative)  # relative to reports/
    except PathEscapeError:
        return None
    return None if href is None else "../" + href


def _example_row(layout: DatasetLayout, example: Example) -> str:
    still = _href(layout, example.still)
    audio = _href(layout, example.audio)
    image = (
        f'<img src="{escape_text(still)}" alt="still of {escape_text(example.cue_id)}">'
        if still
        else '<span class="muted">no still</span>'
    )
    sound = (
        f'<audio controls preload="none" src="{escape_text(audio)}"></audio><br>'
        f'<a href="{escape_text(audio)}">blurred audio</a>'
        if audio
        else '<span class="muted">no audio</span>'
    )
    return (
        f"<tr><td><code>{escape_text(example.cue_id)}</code></td>"
        f"<td>{escape_text(example.text)}</td><td>{image}</td><td>{sound}</td>"
        f'<td class="num">{example.distance:.2f}</td></tr>'
    )


def _cluster_section(layout: DatasetLayout, k: int, cluster: ClusterSummary, measured: bool) -> str:
    """One cluster; ``measured``: whether voice or image statistics were clustered on."""
    words = (
        ", ".join(
            f"{escape_text(w)} <span class='muted'>(z {z:.1f})</span>" for w, z in cluster.words
        )
        or '<span class="muted">none stands out</span>'
    )
    traits = "".join(
        f"<li>{escape_text(t.words)} <span class='muted'>({escape_text(t.view)}: "
        f"{escape_text(t.statistic)} {t.z:+.2f} sd vs the rest)</span></li>"
        for t in cluster.traits
    )
    labels = ""
    if cluster.labels:
        labels = (
            "<p>Known labels here: "
            + ", ".join(f"{escape_text(name)} {count}" for name, count in cluster.labels.items())
            + "</p>"
        )
    rows = "".join(_example_row(layout, e) for e in cluster.nearest)
    return (
        f'<section class="cluster" id="k{k}-c{cluster.cluster}">'
        f"<h3>k={k}, cluster {cluster.cluster}: {cluster.size} cue groups "
        f"({100 * cluster.share:.1f} %)</h3>"
        f"<p>Distinguishing words: {words}</p>"
        + (
            f"<ul>{traits}</ul>"
            if traits
            else '<p class="muted">No voice or image statistic '
            "differs from the rest by half a standard deviation or more.</p>"
            if measured
            else ""
        )
        + labels
        + "<table><tr><th>cue group</th><th>text</th><th>still</th><th>audio</th>"
        "<th>distance to centre</th></tr>" + rows + "</table></section>"
    )


def _k_section(layout: DatasetLayout, result: KResult, best: bool, measured: bool) -> str:
    opened = " open" if best else ""
    clusters = "".join(_cluster_section(layout, result.k, c, measured) for c in result.clusters)
    return (
        f'<details id="k{result.k}"{opened}><summary>k={result.k} '
        f"(silhouette {result.silhouette:.3f}{', best' if best else ''})</summary>"
        f"{clusters}</details>"
    )


def suggestion_page(suggestion: Suggestion) -> str:
    """The HTML text of the suggestion page."""
    layout = DatasetLayout(suggestion.root)
    measured = any(v != "text" for v in suggestion.views)
    has_agreement = suggestion.results[0].agreement is not None
    head = (
        "<tr><th>k</th><th>silhouette</th><th>inertia</th>"
        + ("<th>purity</th><th>adjusted Rand</th>" if has_agreement else "")
        + "</tr>"
    )
    rows = []
    for result in suggestion.results:
        agreement = ""
        if result.agreement is not None:
            agreement = (
                f'<td class="num">{result.agreement.purity:.3f}</td>'
                f'<td class="num">{result.agreement.adjusted_rand:.3f}</td>'
            )
        css = ' class="best"' if result.k == suggestion.best_k else ""
        rows.append(
            f'<tr{css}><td><a href="#k{result.k}">{result.k}</a></td>'
            f'<td class="num">{result.silhouette:.3f}</td>'
            f'<td class="num">{result.inertia:.1f}</td>{agreement}</tr>'
        )
    note = ""
    if has_agreement and suggestion.results[0].agreement is not None:
        first = suggestion.results[0].agreement
        note = (
            f"<p>Purity and adjusted Rand index compare the clusters with the labels the "
            f"dataset already has ({first.labelled} cue groups); one single cluster would "
            f"have purity {first.majority_share:.3f} (the share of the most common label).</p>"
        )
    weights = ", ".join(f"{escape_text(v)} {w:g}" for v, w in suggestion.weights.items())
    sections = "".join(
        _k_section(layout, r, r.k == suggestion.best_k, measured) for r in suggestion.results
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Class suggestion: {escape_text(suggestion.root.name)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>Class suggestion: {escape_text(suggestion.root.name)}</h1>"
        f"<p>{len(suggestion.cue_ids)} accepted cue groups clustered with k-means (seed "
        f"{suggestion.seed}) on the views {escape_text('+'.join(suggestion.views))} "
        f"(weights: {weights}; each view scaled to the same total variance"
        + (
            f"; each {escape_text(suggestion.centre_by)}'s own mean taken out of the features"
            if suggestion.centre_by
            else ""
        )
        + "). Read the "
        "clusters, name the ones that make a class, then run "
        "<code>empathynet classes apply DATASET --k K --name 0=joy --name 1=anger ...</code>"
        " (clusters may share a name; unnamed clusters are dropped).</p>"
        '<h2>Silhouette per k</h2><p class="muted">The silhouette (from -1 to 1) says how '
        "much closer cue groups are to their own cluster than to the next one; the highest "
        "is marked.</p>"
        f"<table>{head}{''.join(rows)}</table>{note}"
        f"<h2>Clusters</h2>{sections}</body></html>\n"
    )
