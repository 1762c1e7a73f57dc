"""Pure analytics: Series in, Series out; no I/O, inputs never mutated, NaN where undefined."""
