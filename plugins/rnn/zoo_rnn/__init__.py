"""seqzoo plugin: Elman RNN, LSTM and GRU backbones."""
