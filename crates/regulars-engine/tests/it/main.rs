//! The engine against `domain-spec.md` §3.5: small brands worked out by hand, the boundaries the
//! spec pins, evaluation as of a past day, and properties over generated facts.

mod as_of;
mod hand_worked;
mod incremental;
mod options;
mod properties;

use regulars_engine::{
    Day, EngineConfig, Evaluation, FactTable, FactTableBuilder, OrderFact, evaluate,
};

/// A member described by purchase days and amounts, and interaction days.
#[derive(Debug, Clone, Default)]
pub struct Member {
    pub orders: Vec<(OrderFact, Vec<(Day, i64)>)>,
    pub interactions: Vec<Day>,
}

impl Member {
    pub fn buying(days_and_amounts: &[(i32, i64)]) -> Self {
        Self {
            orders: days_and_amounts
                .iter()
                .map(|&(day, amount)| (OrderFact::paid(Day(day), amount), vec![]))
                .collect(),
            interactions: vec![],
        }
    }

    pub fn interacting(days: &[i32]) -> Self {
        Self {
            orders: vec![],
            interactions: days.iter().map(|d| Day(*d)).collect(),
        }
    }
}

pub fn table(members: &[Member]) -> FactTable {
    let mut builder = FactTableBuilder::new();
    for member in members {
        builder.push_member(&member.orders, &member.interactions);
    }
    builder.finish()
}

pub fn run(members: &[Member], as_of: i32) -> Evaluation {
    evaluate(
        &table(members),
        &regulars_engine::IndexOrder,
        &EngineConfig::default(),
        Day(as_of),
    )
}
