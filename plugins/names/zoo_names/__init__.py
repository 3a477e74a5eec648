"""seqzoo plugin: classify a surname (or any short text) by its language."""
