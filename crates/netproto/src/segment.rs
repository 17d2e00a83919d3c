//! The sliding-window protocol's segment format.
