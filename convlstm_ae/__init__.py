"""ConvLSTM families on `regularity`: the autoencoder, the seq2seq predictor, the movement matcher.

One folder each (``autoencoder/``, ``seq2seq/``, ``movement/``): config and recipes, network
builders, trainer, and a README with the declared recipe and its figures.
"""

import regularity  # noqa: F401  (first: it sets TensorFlow's log level before keras loads it)
