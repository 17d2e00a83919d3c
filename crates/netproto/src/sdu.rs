//! The Simple SDU message of the UDP exercise.
