"""Video regularity: the model-agnostic core of the suite (data, windows, scores, media)."""

import os

# Before anything imports TensorFlow: without a GPU, its CUDA probe logs errors (level 2) into
# every notebook; with one, warnings and above are kept. A value already set wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2" if os.path.exists("/dev/nvidiactl") else "3")

__version__ = "0.1.0"
