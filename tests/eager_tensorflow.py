"""`run_eagerly`: TensorFlow runs `tf.function`s eagerly, without tracing graphs (test speed).

Used by the `eager` fixture in the test process and by the notebook kernels' startup file.
"""

import keras


def run_eagerly(on: bool = True) -> bool | None:
    """Sets whether TensorFlow runs functions eagerly; the setting before, None off TensorFlow."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    was = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(on)
    return was
