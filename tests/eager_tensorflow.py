"""`compile_eagerly`: models compiled under TensorFlow run their steps eagerly (test speed).

On the tests' tiny data, tracing a trainer's steps costs more than the few steps it runs, while
a network loaded for scoring predicts every clip and is faster traced: so only what is compiled
runs eagerly, not every `tf.function` (OCR-GAN's scoring test: 73 s all eager, 46 s all traced).
Used by the `eager` fixture in the test process and by the notebook kernels' startup file.
"""

import keras


def compile_eagerly() -> tuple[object, object] | None:
    """Makes `keras.Model.compile` ask for eager steps; the compile it replaced (None off TF)."""
    if keras.backend.backend() != "tensorflow":
        return None
    compile_traced = keras.Model.compile

    def compile_eager(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        return compile_traced(self, *args, **{**kwargs, "run_eagerly": True})

    keras.Model.compile = compile_eager
    return compile_traced
