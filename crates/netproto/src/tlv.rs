//! The TLV of the TCP exercise.
