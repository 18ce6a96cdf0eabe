//! The database URL, which alone chooses the backend.

use std::fmt;
use std::path::{Path, PathBuf};

/// The storage backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file in WAL mode: the embedded default.
    Sqlite,
    /// PostgreSQL: the production backend.
    Postgres,
}

impl Backend {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A URL we cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    /// The scheme is not one we support.
    #[error("unsupported database URL scheme `{0}`: use sqlite://PATH or postgres://…")]
    UnknownScheme(String),
    /// No scheme at all.
    #[error("`{0}` is not a database URL: use sqlite://PATH or postgres://…")]
    NotAUrl(String),
    /// A SQLite URL without a path.
    #[error("the SQLite URL has no file path")]
    MissingPath,
}

/// A validated database URL; its `Debug` and `Display` hide any password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    raw: String,
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH` (also `sqlite:PATH`) or `postgres://…` (also `postgresql://…`).
    pub fn parse(value: &str) -> Result<Self, DatabaseUrlError> {
        let value = value.trim();
        let Some((scheme, rest)) = value.split_once(':') else {
            return Err(DatabaseUrlError::NotAUrl(value.to_owned()));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => {
                let path = rest.trim_start_matches("//");
                let path = path.split('?').next().unwrap_or_default();
                if path.is_empty() {
                    return Err(DatabaseUrlError::MissingPath);
                }
                Ok(Self {
                    backend: Backend::Sqlite,
                    raw: value.to_owned(),
                })
            }
            "postgres" | "postgresql" => Ok(Self {
                backend: Backend::Postgres,
                raw: value.to_owned(),
            }),
            other => Err(DatabaseUrlError::UnknownScheme(other.to_owned())),
        }
    }

    /// The URL of a SQLite file.
    pub fn sqlite_file(path: &Path) -> Self {
        Self {
            backend: Backend::Sqlite,
            raw: format!("sqlite://{}", path.display()),
        }
    }

    /// The backend this URL chooses.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The full URL, password included: only for connecting.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The file of a SQLite URL.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        let rest = self.raw.split_once(':').map(|(_, rest)| rest)?;
        let path = rest.trim_start_matches("//");
        Some(PathBuf::from(path.split('?').next().unwrap_or_default()))
    }

    fn redacted(&self) -> String {
        // postgres://user:password@host → postgres://user:***@host
        let Some((scheme, rest)) = self.raw.split_once("://") else {
            return self.raw.clone();
        };
        let Some((credentials, host)) = rest.split_once('@') else {
            return self.raw.clone();
        };
        match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => self.raw.clone(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl")
            .field(&self.redacted())
            .finish()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_chooses_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/r.db").unwrap().backend(),
            Backend::Sqlite
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:r.db").unwrap().backend(),
            Backend::Sqlite
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://localhost/test")
                .unwrap()
                .backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/r.db?mode=rwc")
                .unwrap()
                .sqlite_path()
                .unwrap(),
            PathBuf::from("data/r.db")
        );
    }

    #[test]
    fn an_unknown_scheme_is_a_clear_error() {
        let error = DatabaseUrl::parse("mysql://localhost/db").unwrap_err();
        assert_eq!(
            error.to_string(),
            "unsupported database URL scheme `mysql`: use sqlite://PATH or postgres://…"
        );
        assert!(matches!(
            DatabaseUrl::parse("data.db"),
            Err(DatabaseUrlError::NotAUrl(_))
        ));
        assert_eq!(
            DatabaseUrl::parse("sqlite://").unwrap_err(),
            DatabaseUrlError::MissingPath
        );
    }

    #[test]
    fn passwords_never_reach_logs() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/regulars").unwrap();
        assert_eq!(
            format!("{url:?}"),
            "DatabaseUrl(\"postgres://app:***@db:5432/regulars\")"
        );
        assert_eq!(url.to_string(), "postgres://app:***@db:5432/regulars");
        assert!(url.expose().contains("s3cret"));
    }
}
