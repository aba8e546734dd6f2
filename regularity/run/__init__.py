"""Stage 3, runs: config, the family contract, training, evaluation, the leaderboard."""
