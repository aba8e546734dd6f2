"""OCR-GAN Video's ablations: each part switched off, the same recipe and budget."""

from __future__ import annotations

from pathlib import Path

from gan.ocr.config import OCRConfig
from regularity.run.files import read_json

# The four ablations: each module or term off, everything else (budget included) the same.
ABLATIONS: dict[str, dict] = {
    "no_temporal_fusion": {"temporal_fusion": False},
    "no_channel_selection": {"channel_selection": False},
    "no_temporal_losses": {"temporal_weight": 0.0},
    "no_adversarial": {"adversarial_weight": 0.0},
}


def ablation_configs(
    recipe: str,
    run_dir: str,
    settings: dict | None = None,
    variants: list[str] | None = None,
    **parameters: object,
) -> dict[str, OCRConfig]:
    """The config of each of `ABLATIONS` (``variants``: some of them; None: all).

    Each in ``<run_dir>_<variant>``: the full model's recipe, settings and budget, one part off.
    """
    unknown = set(variants or ()) - set(ABLATIONS)
    if unknown:
        raise ValueError(f"unknown ablations {sorted(unknown)}; known: {', '.join(ABLATIONS)}")
    return {
        variant: OCRConfig.recipe(
            recipe,
            run_dir=f"{run_dir}_{variant}",
            settings={**(settings or {}), **change},
            **parameters,
        )  # fmt: skip
        for variant, change in ABLATIONS.items()
        if variants is None or variant in variants
    }


def train_ablations(
    recipe: str, run_dir: str, settings: dict | None = None, overwrite: bool = False,
    write_videos: int | None = 0, variants: list[str] | None = None, **parameters: object,
) -> dict[str, dict]:  # fmt: skip
    """Trains (or resumes) and tests each ablation (`ablation_configs`).

    Returns each one's ``metrics.json``, after the full model's (``run_dir``, trained and
    tested beforehand) where it is there.
    """
    from regularity.run.evaluation import evaluate_run
    from regularity.run.pipeline import train_run

    full = Path(run_dir) / "metrics.json"
    metrics = {"full": read_json(full)} if full.is_file() else {}
    for variant, config in ablation_configs(
        recipe, run_dir, settings, variants, **parameters
    ).items():
        if overwrite or not (Path(config.run_dir) / "metrics.json").is_file():
            train_run(config, overwrite=overwrite)
            evaluate_run(config.run_dir, write_videos=write_videos)
        metrics[variant] = read_json(Path(config.run_dir) / "metrics.json")
    return metrics


def ablation_table(metrics: dict[str, dict]) -> str:
    """Frame AUC (three conventions), EER, training and scoring of each variant, Markdown."""
    lines = ["| variant | frame AUC (minmax / raw / macro) | EER | training | scoring |",
             "|---|---|---|---|---|"]  # fmt: skip

    def figure(value: float | None) -> str:
        return "" if value is None else f"{value:.3f}"

    for variant, m in metrics.items():
        auc = m.get("frame_auc") or {}
        aucs = " / ".join(figure(auc.get(k)) for k in ("micro_minmax", "micro_raw", "macro"))
        lines.append(f"| {variant} | {aucs} | {figure(m.get('eer'))} | "
                     f"{m.get('train_seconds', 0) / 60:.1f} min | {m.get('score_fps', 0):.0f} "
                     "frames/s |")  # fmt: skip
    return "\n".join(lines)
