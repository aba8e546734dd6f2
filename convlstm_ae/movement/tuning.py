"""A KerasTuner search of the movement matcher's head on the held-out normal clips."""

from __future__ import annotations

from convlstm_ae.movement.config import MovementConfig, create_movement_model
from convlstm_ae.movement.model import MovementTrainer

# The search space of `tune_movement` (the notes' hyper-parameters).
SEARCH_SPACE = {
    "learning_rate": [1e-4, 3e-4, 1e-3],
    "dropout": [0.0, 0.2],
    "batch_norm": [False, True],
    "activation": ["relu", "elu"],
    "batch_size": [2, 4, 8],
    "mirror": [False, True],
    "freeze_lower": [True, False],
}


def tune_movement(
    config: MovementConfig, trials: int = 8, epochs: int | None = None
) -> tuple[MovementConfig, list[dict]]:
    """Random search over `SEARCH_SPACE` with keras-tuner, selected on held-out clips only.

    Each trial trains the two-phase model (``epochs``, default the config's, phase 1 for at most
    half of them) on the run's training clips of the trained movement and is judged by its
    validation loss on the held-out clips of the same movement (``val_clips``): no clip of
    another movement and no test clip is seen. scikit-learn's grid search cannot wrap a model
    with its own ``train_step``; keras-tuner builds and fits each trial itself. The search
    (resumable: finished trials are kept) lives in ``<run_dir>/tuning/``; ``tuning.json`` lists
    every trial's values and validation loss.

    Returns:
        The config with the best trial's values, and the trials, best first.

    """
    import hashlib
    import json

    import keras_tuner as kt

    from regularity.data.preprocess import Normalizer
    from regularity.run.files import run_folder, write_json
    from regularity.run.pipeline import get_training_data, training_windows, validation_windows

    run_dir = run_folder(config.run_dir)
    epochs = epochs or config.epochs
    identity = json.dumps({**config.identity(), "epochs": epochs}, sort_keys=True)
    train, held_out, _ = get_training_data(config.open_dataset(), config)
    if held_out is None:
        raise ValueError("tuning selects on held-out clips of the trained movement: val_clips >= 1")
    normalizer = Normalizer.fit(train.clips(), config.scaling)

    def trial_config(hp: kt.HyperParameters) -> MovementConfig:
        # keras-tuner stores booleans as integers: each value back in its option's type.
        values = {n: type(o[0])(hp.Choice(n, o)) for n, o in SEARCH_SPACE.items()}
        head_epochs = min(config.head_epochs, epochs // 2)
        return config.replace(**values, epochs=epochs, head_epochs=head_epochs)

    class Search(kt.HyperModel):
        def build(self, hp: kt.HyperParameters) -> MovementTrainer:
            trial = trial_config(hp)
            steps = len(training_windows(trial, train, normalizer))
            return create_movement_model(trial, trial.input_shape(), steps)

        def fit(self, hp: kt.HyperParameters, model: MovementTrainer, **options: object) -> object:
            trial = trial_config(hp)
            validation = validation_windows(trial, held_out, normalizer)
            return model.fit(
                training_windows(trial, train, normalizer).dataset(),
                validation_data=validation and validation.dataset(),
                epochs=trial.epochs,
                **options,
            )

    tuner = kt.RandomSearch(
        Search(),
        objective=kt.Objective("val_loss", "min"),
        max_trials=trials,
        seed=config.seed,
        directory=str(run_dir / "tuning"),
        # Trials of another search (data, model, epochs) must not be resumed as this one's.
        project_name=f"search_{hashlib.md5(identity.encode()).hexdigest()[:10]}",
    )
    tuner.search(verbose=0)
    ranked = [
        {**t.hyperparameters.values, "val_loss": t.score}
        for t in tuner.oracle.get_best_trials(num_trials=trials)
    ]
    write_json(run_dir / "tuning.json", {"epochs": epochs, "trials": ranked})
    best = {k: type(SEARCH_SPACE[k][0])(v) for k, v in ranked[0].items() if k in SEARCH_SPACE}
    return config.replace(**best), ranked
