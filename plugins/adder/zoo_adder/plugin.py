"""Entry point of the seqzoo-adder plugin: registration only, no torch import."""
