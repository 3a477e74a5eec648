"""seqzoo plugin: a finite-memory causal Transformer and the minLSTM/minGRU parallel-scan RNNs."""
