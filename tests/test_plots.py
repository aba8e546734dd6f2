"""Figures a person reads: the loss curve's axes."""

import numpy as np
import pytest

from regularity.show.plots import history_figure, plot_history


def write_history(path, losses, val_losses):
    rows = ["epoch,loss,val_loss"] + [
        f"{i},{a},{b}" for i, (a, b) in enumerate(zip(losses, val_losses, strict=True))
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def visible(locs, limits):
    lo, hi = sorted(limits)
    return np.asarray([t for t in locs if lo - 1e-12 <= t <= hi + 1e-12])


@pytest.mark.parametrize(
    ("losses", "val_losses"),
    [
        ([0.9, 0.08, 0.02], [0.5, 0.1, 0.01]),  # two decades: a log axis
        ([1e3, 1.0, 1e-3], [1e2, 1e-1, 1e-6]),  # nine decades
        ([0.2047, 0.2010, 0.1975], [0.21, 0.205, 0.2]),  # under one decade
        ([0.3], [0.31]),  # one epoch
    ],
)
def test_loss_curve_has_whole_epochs_and_several_labelled_loss_ticks(tmp_path, losses, val_losses):
    history = write_history(tmp_path / "history.csv", losses, val_losses)
    fig = history_figure(history)
    ax = fig.axes[0]
    fig.canvas.draw()
    epochs = visible(ax.get_xticks(), ax.get_xlim())
    assert len(epochs) and np.allclose(epochs, np.round(epochs)), epochs
    ticks = visible(ax.get_yticks(), ax.get_ylim())
    labels = [t for t in ax.yaxis.get_major_formatter().format_ticks(ticks) if t.strip()]
    assert len(labels) >= 3, (ax.get_yscale(), ticks, labels)
    assert plot_history(history, tmp_path / "loss.png").is_file()


def test_a_history_plot_can_show_chosen_columns_only(tmp_path):
    history = write_history(tmp_path / "history.csv", [0.9, 0.5], [0.8, 0.6])
    fig = history_figure(history, columns=("val_loss",), title="held out")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["val_loss"]
    assert ax.get_title() == "held out"
