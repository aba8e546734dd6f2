"""`compile_eagerly`: models compiled under TensorFlow run their steps eagerly (test speed).

On the tests' tiny data, tracing a trainer's steps costs more than the few steps it runs, while
a network loaded for scoring predicts every clip and is faster traced: so only what is compiled
runs eagerly, not every `tf.function` (OCR-GAN's scoring test on one worker: 54 s with every
function eager, 46 s so). Used by the `eager` fixture in the test process and by the notebook
kernels' startup file.
"""

from collections.abc import Callable

import keras


def compile_eagerly(set_attribute: Callable = setattr) -> None:
    """From here on, models compiled under TensorFlow run their steps eagerly; off TF, nothing.

    The class defining `keras.Model.compile` is patched, not `keras.Model`: Keras compares a
    model's ``compile`` with it to tell a custom compile, and would not compile a loaded model.
    ``set_attribute``: how to patch it (the fixture passes `monkeypatch.setattr`, undone after).
    """
    if keras.backend.backend() != "tensorflow":
        return
    owner = next(c for c in keras.Model.__mro__ if "compile" in vars(c))
    compile_traced = owner.compile

    def compile_eager(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        return compile_traced(self, *args, **{**kwargs, "run_eagerly": True})

    set_attribute(owner, "compile", compile_eager)
