"""Stage 2, scoring: inference over windows, frame scores, red dots, metrics, prediction quality."""
