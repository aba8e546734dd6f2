"""`block`, called first, makes this process a machine without TensorFlow (the JAX tests).

Finding TensorFlow fails from then on, as where it is not installed (the GPU machine); nothing is
put into ``sys.modules``, which Keras would take for TensorFlow being loaded.
"""

import importlib.abc
import sys


class WithoutTensorFlow(importlib.abc.MetaPathFinder):
    """Fails to find ``tensorflow`` and its submodules."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "tensorflow":
            raise ModuleNotFoundError(f"No module named {name!r} (tests without TensorFlow)")
        return None


def block() -> None:
    """From now on, importing TensorFlow fails in this process."""
    sys.meta_path.insert(0, WithoutTensorFlow())
