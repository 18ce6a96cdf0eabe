//! The storage contract suite lives in `tests/it`: every store behaviour, run against SQLite and
//! PostgreSQL alike. This library is empty on purpose.
