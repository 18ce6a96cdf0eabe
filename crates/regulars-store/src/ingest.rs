//! What happened to each item of an ingest batch.

use std::fmt;

use regulars_domain::{MemberId, OrderId, StoreId};

/// How ingest treats references to members and stores it does not know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestOptions {
    /// Refuse facts for unknown members and stores instead of creating them.
    pub strict: bool,
}

/// An item that was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// It was new and is now stored.
    Created,
    /// It updated a stored item in a defined way (a forward status change, a profile change,
    /// lines for an order stored without).
    Updated,
    /// It was stored already (or was older news): nothing changed.
    Duplicate,
}

impl Accepted {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Duplicate => "duplicate",
        }
    }
}

/// An item that was refused and wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// It names a member the store does not know, and ingest is strict.
    UnknownMember(MemberId),
    /// It names a store the store does not know, and ingest is strict.
    UnknownStore(StoreId),
    /// It names an order the store does not know.
    UnknownOrder(OrderId),
    /// The same id is stored with different content.
    Conflict {
        /// The fact kind (`order`, `return`, …).
        kind: &'static str,
        /// Its id.
        id: String,
        /// The fields that differ.
        fields: Vec<&'static str>,
    },
    /// It breaks a rule that needs stored data to check (a return larger than its order).
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

impl Rejection {
    /// The field an error report should name.
    pub fn field(&self) -> &str {
        match self {
            Self::UnknownMember(_) => "member_id",
            Self::UnknownStore(_) => "store_id",
            Self::UnknownOrder(_) => "order_id",
            Self::Conflict { fields, .. } => fields.first().copied().unwrap_or("id"),
            Self::Invalid { field, .. } => field,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownMember(id) => write!(f, "member {id} is not known (strict ingest)"),
            Self::UnknownStore(id) => write!(f, "store {id} is not known (strict ingest)"),
            Self::UnknownOrder(id) => write!(f, "order {id} is not known; import orders first"),
            Self::Conflict { kind, id, fields } => write!(
                f,
                "{kind} {id} is already stored with a different {}",
                fields.join(", ")
            ),
            Self::Invalid { reason, .. } => f.write_str(reason),
        }
    }
}

/// The outcome of one item.
pub type ItemOutcome = Result<Accepted, Rejection>;
