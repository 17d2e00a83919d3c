//! The link emulator's core: tc-netem's impairments for one direction of a link, sans-IO.
//!
//! [`Spec`] is the impairment in netem's own words; [`Link`] applies it to the frames of one
//! direction with a caller-supplied clock and a seeded RNG, so the same seed replays the same
//! losses, delays and reorderings, and every frame's fate is known. The `linkem` binary drives
//! one [`Link`] per direction between two interfaces; the tests drive it with a fake clock.

mod link;
mod spec;

pub use link::{Departure, Fate, Link, LinkStats, Meta};
pub use spec::{Chance, DEFAULT_LIMIT, Distribution, Loss, Rate, Spec, SpecError};
