"""Video regularity: the model-agnostic core of the suite (data, windows, scores, media)."""

__version__ = "0.1.0"
