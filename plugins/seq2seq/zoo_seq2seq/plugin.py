"""Entry point of the seqzoo-seq2seq plugin: registration only, no torch import."""
