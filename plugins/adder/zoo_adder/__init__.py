"""seqzoo plugin: Binary addition, bit by bit."""
