"""Entry point of the seqzoo-charlm plugin: registration only, no torch import."""
