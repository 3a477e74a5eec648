"""seqzoo plugin: Encoder-decoder with teacher forcing, attention and beam search."""
