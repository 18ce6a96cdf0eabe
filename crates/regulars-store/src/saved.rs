//! What the store keeps of saved audiences (custom segments, auto tags and static lists): their
//! definitions, who is in each now, the log of members entering and leaving, and manual tags
//! with the log of every tag change.

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;

use crate::StoreResult;

/// A saved audience's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedAudience {
    /// Its name, unique.
    pub name: String,
    /// The rule in canonical text, or none for a static list (its members are fixed).
    pub rule: Option<String>,
    /// The tag its members carry while they are in it (an auto tag), if any.
    pub tag: Option<String>,
    /// What it is for, in the marketer's words.
    pub description: Option<String>,
    /// When it was first saved.
    pub created_at: Timestamp,
    /// When it was last saved.
    pub updated_at: Timestamp,
}

/// A member entered or left a saved audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceMove {
    /// The audience.
    pub audience: String,
    /// The member.
    pub member_id: String,
    /// True when they entered, false when they left.
    pub entered: bool,
    /// The brand's civil day it happened on.
    pub day: Date,
    /// When it was recorded.
    pub at: Timestamp,
    /// What moved them: a fact (`order:ID`, …), `time`, `saved`, `edited`, `list`, `restart`.
    pub cause: String,
}

/// A tag added to or removed from a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagChange {
    /// The member.
    pub member_id: String,
    /// The tag.
    pub tag: String,
    /// True when added, false when removed.
    pub added: bool,
    /// `manual` (API, CLI, CSV) or `audience:NAME` (an auto tag).
    pub source: String,
    /// The brand's civil day it happened on.
    pub day: Date,
    /// When it was recorded.
    pub at: Timestamp,
    /// What did it: for manual tags who or what file, for auto tags the fact or `time`.
    pub cause: String,
}

impl TagChange {
    /// The source of a tag given by hand.
    pub const MANUAL: &'static str = "manual";
}

/// A logged entry with its place in its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged<T> {
    /// Its position: increasing, for paging.
    pub seq: i64,
    /// The entry.
    pub entry: T,
}

/// Which log entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// Only this audience (for moves) or tag (for tag changes).
    pub subject: Option<String>,
    /// Only this member.
    pub member_id: Option<String>,
    /// After this position in the log.
    pub after_seq: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

/// Saved audiences and tags.
#[async_trait]
pub trait AudienceStore: Send + Sync {
    /// Saves a definition (a new one, or new contents for the name, keeping `created_at`) with
    /// the moves and tag changes that saving it makes, in one transaction.
    async fn save_audience(
        &self,
        audience: &SavedAudience,
        moves: &[AudienceMove],
        tags: &[TagChange],
    ) -> StoreResult<()>;
    /// Deletes an audience and its memberships, logging the moves and tag changes given, in one
    /// transaction; `NotFound` when there is none of that name.
    async fn delete_audience(
        &self,
        name: &str,
        moves: &[AudienceMove],
        tags: &[TagChange],
    ) -> StoreResult<()>;
    /// Every saved audience, by name.
    async fn list_audiences(&self) -> StoreResult<Vec<SavedAudience>>;
    /// Logs moves and applies them to the memberships, with the tag changes they make, in one
    /// transaction.
    async fn record_audience_moves(
        &self,
        moves: &[AudienceMove],
        tags: &[TagChange],
    ) -> StoreResult<()>;
    /// Who is in each audience now: (audience, member) pairs.
    async fn audience_memberships(&self) -> StoreResult<Vec<(String, String)>>;
    /// Moves matching `filter` (`subject`: the audience), in log order.
    async fn list_audience_moves(
        &self,
        filter: &LogFilter,
    ) -> StoreResult<Vec<Logged<AudienceMove>>>;
    /// Logs tag changes; those of source [`TagChange::MANUAL`] also change the manual tags.
    async fn record_tag_changes(&self, changes: &[TagChange]) -> StoreResult<()>;
    /// Every manual tag: (member, tag) pairs.
    async fn manual_tags(&self) -> StoreResult<Vec<(String, String)>>;
    /// Tag changes matching `filter` (`subject`: the tag), in log order.
    async fn list_tag_changes(&self, filter: &LogFilter) -> StoreResult<Vec<Logged<TagChange>>>;
}
