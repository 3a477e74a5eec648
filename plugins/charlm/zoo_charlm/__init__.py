"""seqzoo plugin: Character-level language model (char-rnn) with sampling."""
