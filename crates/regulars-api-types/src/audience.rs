//! Audience rules as JSON: the same rules the text form writes (`nesl in (S1, S2) and …`), as a
//! tree of conditions, each an object with exactly one key.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who is in an audience: the members matching `include` and not matching `exclude`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceRuleJson {
    /// Who is in.
    pub include: ConditionJson,
    /// Who is taken out again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<ConditionJson>,
}

/// One condition: an object with exactly one of these keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ConditionJson {
    /// Every condition holds (at least one).
    #[schema(no_recursion)]
    All(Vec<Self>),
    /// At least one holds (at least one).
    #[schema(no_recursion)]
    Any(Vec<Self>),
    /// The condition does not hold.
    #[schema(no_recursion)]
    Not(Box<Self>),
    /// A member attribute tested: `{"name": "age", "op": ">=", "value": 30}`,
    /// `{"name": "nesl", "in": ["S1", "S2"]}`, `{"name": "last_purchase", "within_days": 30}`.
    Attribute(AttributeTestJson),
    /// A number over the member's orders or interactions compared with a value:
    /// `{"name": "orders", "op": ">=", "value": 3, "filter": {"within_days": 90}}`.
    Measure(MeasureJson),
    /// Bought an item matching the filter: `{"category": "pastry", "within_days": 30}`.
    Bought(FactFilterJson),
    /// Had a behaviour event: `{"kind": "cart_add", "no_purchase_since": true, "filter": {…}}`.
    Event(EventJson),
    /// Bought an item many of its buyers buy again and is still inside that item's repurchase
    /// cycle: `{"min_rate": 30, "category": "beans"}`.
    RepurchaseCycle(RepurchaseCycleJson),
    /// Consented to a channel: `line`, `sms`, `email` or `push`.
    Consent(String),
    /// Carries the tag.
    Tag(String),
    /// Is a member of the saved segment.
    Segment(String),
    /// Spendable points that stop counting within the days, compared with a value:
    /// `{"within_days": 30, "op": ">=", "value": 100}`.
    PointsExpiring(PointsExpiringJson),
    /// The member's coupons usable on the evaluated day, counted and compared:
    /// `{"template": "birthday", "op": ">=", "value": 1}`.
    UnusedCoupons(UnusedCouponsJson),
}

/// Points expiring soon, compared with a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointsExpiringJson {
    /// Lots whose first day without counting is no later than the evaluated day plus this many
    /// days.
    pub within_days: u32,
    /// `=`, `!=`, `<`, `<=`, `>` or `>=`.
    pub op: String,
    /// The points compared with.
    pub value: f64,
}

/// Unused coupons, counted and compared with a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnusedCouponsJson {
    /// Only coupons of this template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Only coupons whose last day is within this many days, the evaluated day included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_within_days: Option<u32>,
    /// `=`, `!=`, `<`, `<=`, `>` or `>=`.
    pub op: String,
    /// The count compared with.
    pub value: f64,
}

/// A test of one member attribute: `op` with `value`, or `in`, or `within_days` (dates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributeTestJson {
    /// The attribute: `gender`, `age`, `birthday_month`, `birthday_day`, `days_to_birthday`,
    /// `months_to_birthday`, `region`, `joined`, `home_store`, `first_purchase`,
    /// `last_purchase`, `days_since_purchase`, `r_score`, `f_score`, `m_score`, `top_spender`,
    /// `rfm_cell`, `rfm_segment`, `rfm8`, `nesl`, `rfim`, `lifecycle`, `tier`, `points`,
    /// `pending_points`.
    pub name: String,
    /// `=`, `!=`, `<`, `<=`, `>` or `>=` (names and text take `=` and `!=` only; tiers compare
    /// by rank).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// The value `op` compares with: a number, a `YYYY-MM-DD` date or text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<ScalarJson>,
    /// Equal to one of these.
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<ScalarJson>>,
    /// A date within the last this many days, the evaluated day included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_days: Option<u32>,
}

/// A number or text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ScalarJson {
    /// A number, at most two decimal places.
    Number(f64),
    /// Text, a name or a `YYYY-MM-DD` date.
    Text(String),
}

/// A measure compared with a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureJson {
    /// `orders`, `spent`, `purchase_days`, `average_order` or `interactions`.
    pub name: String,
    /// `=`, `!=`, `<`, `<=`, `>` or `>=`.
    pub op: String,
    /// The value (amounts in the currency's major units), at most two decimal places.
    pub value: f64,
    /// Which facts count; all of them when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<FactFilterJson>,
}

/// A behaviour event test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventJson {
    /// `view`, `cart_add`, `favorite`, `search` or `checkout_started`.
    pub kind: String,
    /// Only an event after the member's last purchase counts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_purchase_since: bool,
    /// Which events count (window, sku, category); all of them when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<FactFilterJson>,
}

/// Items bought inside their repurchase cycle. Over the last 730 days, an item's repurchase
/// rate is the share of its buyers (at least `min_buyers`) who bought it on two days or more, and its
/// cycle the median of the days between one buyer's purchase-days of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepurchaseCycleJson {
    /// The least repurchase rate, in percent (0 to 100).
    pub min_rate: f64,
    /// The fewest buyers an item needs for its rate to count (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_buyers: Option<u32>,
    /// Only this sku.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Only this category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// Which facts count; every key left out keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactFilterJson {
    /// The last this many days, the evaluated day included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_days: Option<u32>,
    /// From one day to another, both included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub between: Option<DateRangeJson>,
    /// Only this sku.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Only this category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Orders: `online` or `offline` stores; interactions: the interaction channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Only orders in this store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

/// Two days, both included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DateRangeJson {
    /// The first day, `YYYY-MM-DD`.
    pub from: String,
    /// The last day, `YYYY-MM-DD`.
    pub to: String,
}

/// A rule to preview: as JSON (`rule`) or as text (`text`), exactly one of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudiencePreviewRequest {
    /// The rule as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<AudienceRuleJson>,
    /// The rule as text: `nesl in (S1, S2) and bought(category = "pastry", within = 30d)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Evaluate as of the end of this date, `YYYY-MM-DD` (default: today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// How many member ids to return, 0 to 1,000 (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<usize>,
}

/// What a rule selects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AudiencePreviewView {
    /// The day it was evaluated as of.
    pub as_of: String,
    /// Members selected.
    pub count: u64,
    /// Members in all.
    pub members: u64,
    /// The first selected member ids, in id order.
    pub sample: Vec<String>,
    /// The rule in canonical text.
    pub text: String,
    /// The rule as JSON.
    pub rule: AudienceRuleJson,
}

/// A saved audience to create or replace: a rule (as `rule` JSON or `text`) kept live, or a
/// static list by `members`, `phones` and `emails` (any of the three together).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceSaveRequest {
    /// The rule as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<AudienceRuleJson>,
    /// The rule as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The members of a static list, by the brand's ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<String>>,
    /// Members of a static list by phone (`0912-345-678`, `+886912345678`): every member with
    /// that phone; one nobody has is reported in `unmatched`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phones: Option<Vec<String>>,
    /// Members of a static list by e-mail address, as `phones`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<String>>,
    /// A tag its members carry while they are in it (an auto tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A saved audience.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AudienceView {
    /// Its name.
    pub name: String,
    /// `rule` (kept live) or `list` (fixed members).
    pub kind: String,
    /// The rule in canonical text (rules only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The rule as JSON (rules only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<AudienceRuleJson>,
    /// The tag its members carry, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When it was first saved (RFC 3339).
    pub created_at: String,
    /// When it was last saved.
    pub updated_at: String,
    /// How many members it has now.
    pub members: u64,
}

/// What saving an audience did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AudienceSavedView {
    /// The audience as saved.
    pub audience: AudienceView,
    /// True when the name was new.
    pub created: bool,
    /// Members who entered.
    pub entered: u64,
    /// Members who left.
    pub left: u64,
    /// The phones and e-mail addresses of a static list that name no member, normalised.
    pub unmatched: Vec<String>,
}

/// An audience a brand may start with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AudiencePresetView {
    /// The name it is saved under.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Its rule as text.
    pub text: String,
    /// True when an audience of that name is saved (the preset, or the brand's own edit of it).
    pub saved: bool,
}

/// The presets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AudiencePresetsView {
    /// In the order they are listed.
    pub presets: Vec<AudiencePresetView>,
}

/// Every saved audience.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AudienceListView {
    /// By name.
    pub audiences: Vec<AudienceView>,
}

/// A page of a saved audience's members, in id order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AudienceMembersView {
    /// The audience.
    pub name: String,
    /// Its members in all.
    pub total: u64,
    /// This page's member ids.
    pub members: Vec<String>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// A member entering or leaving a saved audience.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AudienceMoveView {
    /// Its place in the log, for paging.
    pub seq: i64,
    /// The audience.
    pub audience: String,
    /// The member.
    pub member_id: String,
    /// True when they entered, false when they left.
    pub entered: bool,
    /// The brand's day it happened on.
    pub day: String,
    /// When it was recorded (RFC 3339).
    pub at: String,
    /// What moved them: a fact (`order:ID`, …), `time`, `recompute`, `saved`, `edited`,
    /// `list`, `deleted`, `restart`, `audience:NAME` or `tag:TAG`.
    pub cause: String,
}

/// Entries of the move log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AudienceMovesView {
    /// In log order.
    pub moves: Vec<AudienceMoveView>,
}

/// Members to tag and untag with one tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagRequest {
    /// Members to give the tag.
    #[serde(default)]
    pub add: Vec<String>,
    /// Members to take it from.
    #[serde(default)]
    pub remove: Vec<String>,
}

/// What a tagging did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TagOutcomeView {
    /// Members whose tags changed.
    pub changed: u64,
    /// Members who had it that way already.
    pub unchanged: u64,
}

/// A tag added to or removed from a member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TagChangeView {
    /// Its place in the log.
    pub seq: i64,
    /// The member.
    pub member_id: String,
    /// The tag.
    pub tag: String,
    /// True when added.
    pub added: bool,
    /// `manual` or `audience:NAME` (an auto tag).
    pub source: String,
    /// The brand's day.
    pub day: String,
    /// When it was recorded (RFC 3339).
    pub at: String,
    /// Who or what did it.
    pub cause: String,
}

/// Entries of the tag log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TagChangesView {
    /// In log order.
    pub changes: Vec<TagChangeView>,
}
