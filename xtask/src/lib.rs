//! Repository chores. Its tests are the tidy checks: they read the repository and
//! `cargo metadata` and fail when a house rule (STYLE.md, ARCHITECTURE.md) is broken, so
//! `cargo test` enforces them everywhere, not only in CI.

#[cfg(test)]
mod tidy;
