"""Entry point of the seqzoo-rnn plugin: registration only, no torch import."""
