//! The clock: the only place Regulars reads the time of day.

use jiff::Timestamp;

/// Tells the time. Tests use a fake; everything else the [`SystemClock`].
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The one place the system clock is read.
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}
