"""One static page per run or scoring, ``report.html``: opens from the file system, no server.

The page links the files beside it (ROC, graphs, marked mp4s) by relative paths, so a copied
or moved folder keeps a working page.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from urllib.parse import quote

from regularity.run.files import package_versions, to_plain

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; padding: 0 1em; max-width: 70em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
.irregular { color: #b00; font-weight: bold; } .regular { color: #060; font-weight: bold; }
.unscored { color: #666; font-weight: bold; }
.warning { color: #a60; } .clip { border-top: 1px solid #ddd; padding-top: 1em; }
img, video { max-width: 100%; } pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
"""


def _table(rows: list[tuple[str, object]]) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    return f"<table>{cells}</table>"


def _figures(metrics: dict) -> list[tuple[str, object]]:
    rows = []
    for name, value in (metrics.get("frame_auc") or {}).items():
        rows.append((f"frame AUC ({name})", f"{value:.3f}" if value is not None else "-"))
    for name in ("eer", "tpr", "fpr", "test_frames", "abnormal_frames"):
        if metrics.get(name) is not None:
            value = metrics[name]
            rows.append((name, f"{value:.3f}" if isinstance(value, float) else value))
    baseline = (metrics.get("baseline") or {}).get("frame_auc") or {}
    for name, value in baseline.items():
        rows.append((f"frame difference AUC ({name})", f"{value:.3f}"))
    return rows


def _link(path: Path) -> str:
    # a clip named "a#1" or "50%" must still reach its file
    return html.escape(quote(path.as_posix()))


def _spans(spans: list[dict]) -> str:
    if not spans:
        return "none"
    return ", ".join(f"{s['start']}-{s['end']} (peak at {s['peak']})" for s in spans)


def _clip(folder: Path, clip: dict) -> str:
    name = clip["name"]
    verdict = clip["verdict"]
    parts = [
        f'<div class="clip" id="{html.escape(name)}"><h2>{html.escape(name)}: '
        f'<span class="{verdict}">{verdict}</span></h2>',
        f"<p>{clip['flagged_frames']} of {clip['frames']} frames over the threshold; "
        f"flagged spans: {html.escape(_spans(clip['spans']))}. Irregular when a span is longer "
        f"than {clip.get('normal_longest_span', 0)} frames, the longest on the normal clips.</p>",
    ]
    if clip.get("source"):
        parts.append(f"<p>source: <code>{html.escape(str(clip['source']))}</code></p>")
    parts += [f'<p class="warning">warning: {html.escape(w)}</p>' for w in clip.get("warnings", [])]
    graph = Path("graphs") / f"{name}.png"
    if (folder / graph).is_file():
        parts.append(
            f'<img src="{graph.as_posix()}" alt="regularity graph of {html.escape(name)}">'
        )
    video = Path("videos") / f"{name}.mp4"
    if (folder / video).is_file():
        parts.append(f'<video controls muted preload="metadata" src="{video.as_posix()}"></video>')
    return "\n".join(parts) + "</div>"


def write_report_page(folder: str | Path, title: str, results: dict, config: dict) -> Path:
    """Write ``folder/report.html`` from a run's ``metrics.json`` or a scoring's ``summary.json``.

    Args:
        folder: the run or scoring folder (its ``roc.png``, ``graphs/`` and ``videos/`` are
            linked when present).
        title: the page's heading.
        results: holds ``clips`` (each clip's verdict, `regularity.score.verdict.clip_verdict`
            plus ``name`` and ``warnings``), ``threshold`` and, for a labelled test split, the
            figures (``frame_auc``, ``eer``, ...).
        config: the run's ``config.json`` (its package versions shown beside today's).

    """
    folder = Path(folder)
    clips = results.get("clips", [])
    irregular = sum(c["verdict"] == "irregular" for c in clips)
    threshold = results["threshold"]
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{len(clips)} clip(s) scored, {irregular} irregular. A frame is flagged when its "
        f"frame score e(t) passes the run's threshold {threshold['value']:.4g} "
        f"({html.escape(str(threshold['source']))}). Scoring speed: "
        f"{results.get('score_fps', 0):.0f} frames/s.</p>",
    ]
    figures = _figures(results)
    if results.get("frame_auc"):
        body += ["<h2>Detection on the labelled test split</h2>", _table(figures)]
    if (folder / "roc.png").is_file():
        body.append('<img src="roc.png" alt="frame-level ROC" style="max-width: 30em">')
    body.append(
        _table(
            [
                (
                    c["name"],
                    f"{c['verdict']}: {c['flagged_frames']}/{c['frames']} frames, "
                    f"spans {_spans(c['spans'])}",
                )
                for c in clips
            ]
        )  # fmt: skip
    )
    body += [_clip(folder, clip) for clip in clips]
    settings = {k: v for k, v in config.items() if k != "versions"}
    body += [
        "<h2>Configuration</h2>",
        f"<pre>{html.escape(json.dumps(to_plain(settings), indent=2))}</pre>",
        "<h2>Package versions</h2>",
        _table(
            [
                (k, f"trained with {v}, scored with {package_versions().get(k, '?')}")
                for k, v in (config.get("versions") or {}).items()
            ]
        ),  # fmt: skip
    ]
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<link rel="icon" href="data:,">'  # no favicon request: the page has no server
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
