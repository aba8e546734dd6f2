"""A trained predictor's prediction quality on its test split, k steps ahead."""

from __future__ import annotations

import numpy as np

from regularity.score.quality import evaluate_prediction, predict_future


def prediction_report(
    run_dir: object,
    steps: int = 2,
    stride: int = 4,
    batch_size: int = 8,
    gifs: bool = True,
) -> dict:
    """PSNR, SSIM and sharpness of a predictor's 1st..``steps``-th frames on its test clips.

    Every ``stride``-th window of each held-out clip is predicted ``steps`` frames ahead (at the
    run's interval ``skip``) and compared, in grey levels (per colour channel), with the real
    frames and with the copy-last-frame baseline, over whole frames and moving pixels
    (`evaluate_prediction`). With ``gifs``, ``prediction/<clip>.gif`` shows each clip's real
    frames beside the 1-step predictions. Written to ``prediction/prediction.json``.
    """
    from pathlib import Path

    from regularity.data.preprocess import Normalizer
    from regularity.data.windows import Target, WindowSpec
    from regularity.nets.trainers import scoring_network
    from regularity.run.evaluation import load_scorer
    from regularity.run.families import load_config
    from regularity.run.files import update_metrics, write_json
    from regularity.score.inference import scaled_frames
    from regularity.show.media import write_gif
    from regularity.show.plots import plot_prediction

    run_dir = Path(run_dir)
    config = load_config(run_dir)
    model = scoring_network(load_scorer(run_dir))
    normalizer = Normalizer.load(run_dir / "normalizer.npz")
    window = config.window
    future = WindowSpec(Target.FUTURE, window.inputs, steps, window.skip)
    targets, predictions, last_inputs, clips = [], [], [], []
    # a motion input's channels are predicted too, but only the frames are compared with
    # copying and shown
    spec = config.input_spec()
    dataset = config.open_dataset()
    for video in dataset.test:
        frames = spec.prepare(video.frames)
        video.release()
        index = future.windows(len(frames), stride)
        if not len(index):
            continue
        inputs, wanted = future.split(index)
        scaled = scaled_frames(frames, normalizer)
        out = np.concatenate([
            predict_future(model, scaled[inputs[i : i + batch_size]], steps, window.target)
            for i in range(0, len(inputs), batch_size)
        ])  # fmt: skip
        grey = np.clip(normalizer.invert(out), 0, 255)[..., : spec.colours]
        frames = frames[..., : spec.colours]
        targets.append(frames[wanted].astype(np.float32))
        predictions.append(grey)
        last_inputs.append(frames[inputs[:, -1]].astype(np.float32))
        clips.append(video.name)
        if gifs:
            side_by_side = np.concatenate([frames[wanted[:, 0]], grey[:, 0].astype(np.uint8)], 2)
            write_gif(side_by_side, run_dir / "prediction" / f"{video.name}.gif", step=1)
    if not clips:
        raise ValueError(f"{run_dir}: no test clip is long enough for {future.span} frames")
    figures = evaluate_prediction(
        np.concatenate(targets), np.concatenate(predictions), np.concatenate(last_inputs)
    )
    report = {"clips": clips, "windows": int(sum(len(t) for t in targets)), "steps": steps,
              "stride": stride, "dropped_low_motion": dataset.dropped, **figures}  # fmt: skip
    write_json(run_dir / "prediction" / "prediction.json", report)
    plot_prediction({config.model: report}, run_dir / "prediction" / "prediction.png")
    update_metrics(run_dir, prediction=report)
    return report
