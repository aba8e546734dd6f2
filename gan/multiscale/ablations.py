"""The multi-scale GAN's loss ablations (L2, + GDL, + adversarial) on the motion clips."""

from __future__ import annotations

from gan.multiscale.config import MultiscaleConfig

# Mathieu et al.'s ablation: the generator alone on L2, then with the gradient difference loss,
# then with the adversarial term (the recipe's), each a run of its own on the same data and budget.
ABLATION: dict[str, dict] = {
    "l2": {"gradient_weight": 0.0, "adversarial_weight": 0.0},
    "l2_gdl": {"adversarial_weight": 0.0},
    "l2_gdl_adv": {},
}


def train_ablation(
    recipe: str,
    run_dir: str,
    settings: dict | None = None,
    overwrite: bool = False,
    **parameters: object,
) -> dict[str, dict]:
    """Trains (or resumes) each `ABLATION` variant of ``recipe``, into ``<run_dir>_<variant>``.

    Returns each variant's `regularity.score.quality.prediction_report`, L2 first.
    """
    from regularity.run.pipeline import train_run
    from regularity.run.quality import prediction_report

    reports = {}
    for variant, change in ABLATION.items():
        changed = {**(settings or {}), **change}
        config = MultiscaleConfig.recipe(
            recipe, run_dir=f"{run_dir}_{variant}", settings=changed, **parameters
        )
        train_run(config, overwrite=overwrite)
        reports[variant] = prediction_report(config.run_dir)
    return reports
