//! Impairment layer: seeded loss, delay and jitter of received datagrams.
