//! Benchmarks (`benches/`) and oracle tests (`tests/`) for mlpipe; this library is empty.
