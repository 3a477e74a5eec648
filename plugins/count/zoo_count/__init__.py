"""seqzoo plugin: Learn to continue a repeating sequence."""
