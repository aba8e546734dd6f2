"""`WindowSequence`: window batches as a ``keras.utils.PyDataset`` (the path without TensorFlow)."""

from __future__ import annotations

import keras

from regularity.data.windows import WindowBatches


class WindowSequence(keras.utils.PyDataset):
    """`WindowBatches` as a ``keras.utils.PyDataset`` (backends other than TensorFlow).

    Keras calls ``on_epoch_end`` after each epoch of ``fit``: the next pass serves the next
    epoch, as each new iteration of the ``tf.data`` path does.
    """

    def __init__(self, batches: WindowBatches) -> None:
        super().__init__()
        self.batches, self.epoch, self._order = batches, 0, batches.order(0)

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, number: int) -> tuple:  # noqa: D105
        return self.batches.batch(self.epoch, number, self._order)

    def on_epoch_end(self) -> None:  # noqa: D102
        self.epoch += 1
        self._order = self.batches.order(self.epoch)
