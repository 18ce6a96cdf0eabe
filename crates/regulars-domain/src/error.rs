//! Field-level validation errors: which field was wrong and why, collected for a whole record.

use std::fmt;

/// One field that failed its rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name as the input spelled it (`placed_at`, `lines[2].quantity`).
    pub field: String,
    /// Why it was refused, lowercase, no trailing period.
    pub reason: String,
}

impl FieldError {
    /// A refusal of `field` for `reason`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Every field error of one record; a record is accepted only when this stays empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Records a refusal.
    pub fn push(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldError::new(field, reason));
    }

    /// Moves `inner`'s refusals here, each field named under `prefix` (`lines[2].`): a part's
    /// fields are checked under their own names, and spelled out in full only when refused.
    pub fn extend_prefixed(&mut self, prefix: impl fmt::Display, inner: Self) {
        for error in inner.0 {
            self.0.push(FieldError {
                field: format!("{prefix}{}", error.field),
                reason: error.reason,
            });
        }
    }

    /// Keeps the value of a check, or records its error under `field` and returns `None`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(reason) => {
                self.push(field, reason);
                None
            }
        }
    }

    /// True when no field was refused.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was refused, else the errors.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Self> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (idx, error) in self.0.iter().enumerate() {
            if idx > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}
