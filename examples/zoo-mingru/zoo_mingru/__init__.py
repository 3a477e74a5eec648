"""Example third-party seqzoo plugin: the minGRU backbone and the bit-string parity task."""
