"""Entry point of the seqzoo-count plugin: registration only, no torch import."""
