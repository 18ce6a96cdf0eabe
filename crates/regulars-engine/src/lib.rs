//! The segmentation engine: who each member is as of a day, by the models of
//! `domain-spec.md` §0–3 (RFM 5×5×5 with the RF-grid segments, RFM-8, NESL, RFIM), computed
//! from compact member-major columns of facts.
//!
//! Pure: no IO, no clock, no environment. `as_of` is always an argument, and every result is a
//! function of the facts, the configuration and `as_of` alone; the order facts arrived in never
//! matters. Cut points (quintiles, the top share) are found by selection, not by sorting
//! everyone, and compared in exact integer arithmetic so that any implementation of the spec
//! agrees member by member.
#![warn(missing_docs)]

mod audience;
mod config;
mod cuts;
mod cycle;
mod day;
mod evaluate;
mod explain;
mod facts;
mod live;
mod models;
mod quantile;
mod rfm8;
mod ties;

pub use audience::{
    Audience, AudienceChange, AudienceCoupon, AudienceEvent, AudienceLot, AudienceLoyalty,
    AudienceMember, AudienceOrder, AudienceProfile, AudienceTable, ChangeError, Lookups, Reads,
    RuleContext, RuleError, TableMember, order_key,
};
pub use config::{
    CYCLE_COUNTS, ConfigError, CustomerMode, EngineConfig, FrequencyUnit, Ratio, Rfm8Monetary,
    Rfm8Threshold, StoreAggregation, ValueBins,
};
pub use cuts::Cuts;
pub use cycle::CustomerCycle;
pub use day::Day;
pub use evaluate::{
    Evaluation, MemberFeatures, MemberSegments, Population, default_threads, evaluate, evaluate_on,
};
pub use explain::{Model, explain};
pub use facts::{FactTable, FactTableBuilder, OrderFact, ReturnFact};
pub use live::{Engine, Fact, FactError, Transition};
pub use models::{Lifecycle, Nesl, Rfim, RfimBand, Rfm8, RfmScores, RfmSegment};
pub use ties::{IndexOrder, MemberIds};
