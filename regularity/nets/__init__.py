"""Shared network pieces: blocks, losses, the trainer contract, adversarial and prediction."""
