//! [`AudienceRule`] → its canonical text, which [`super::parse_rule`] reads back to the same
//! rule: lowercase keywords, parentheses only where the nesting needs them, arguments in a
//! fixed order, free text quoted and names bare.

use std::fmt::{self, Display, Formatter, Write as _};

use super::parse::KEYWORDS;
use super::{
    AttributeKind, AttributeTest, AudienceRule, Condition, FactFilter, Predicate,
    REPURCHASE_MIN_BUYERS, Value, Window,
};

impl Display for AudienceRule {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.exclude {
            None => write_condition(f, &self.include, Level::Or),
            Some(exclude) => {
                f.write_str("include ")?;
                write_condition(f, &self.include, Level::Or)?;
                f.write_str("\nexclude ")?;
                write_condition(f, exclude, Level::Or)
            }
        }
    }
}

impl Display for Condition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_condition(f, self, Level::Or)
    }
}

impl Display for Predicate {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_predicate(f, self)
    }
}

/// How tightly the place a condition is written in binds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Or,
    And,
    Unary,
}

fn write_condition(f: &mut Formatter<'_>, condition: &Condition, level: Level) -> fmt::Result {
    let (parts, joiner, own) = match condition {
        Condition::Any(parts) => (parts, " or ", Level::Or),
        Condition::All(parts) => (parts, " and ", Level::And),
        Condition::Not(inner) => {
            f.write_str("not ")?;
            return write_condition(f, inner, Level::Unary);
        }
        Condition::Test(predicate) => return write_predicate(f, predicate),
    };
    let parenthesised = level > own;
    if parenthesised {
        f.write_char('(')?;
    }
    // A child as loose as its parent gets parentheses, so nesting survives a round trip.
    let child = if own == Level::Or {
        Level::And
    } else {
        Level::Unary
    };
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            f.write_str(joiner)?;
        }
        write_condition(f, part, child)?;
    }
    if parenthesised {
        f.write_char(')')?;
    }
    Ok(())
}

/// `"text"` with `"` and `\` escaped.
pub(super) fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A name written bare when it reads back as one, else quoted.
fn name(text: &str) -> String {
    let mut chars = text.chars();
    let bare = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
        && !KEYWORDS.iter().any(|k| text.eq_ignore_ascii_case(k));
    if bare { text.to_owned() } else { quoted(text) }
}

fn value(kind: AttributeKind, value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        Value::Date(d) => d.to_string(),
        Value::Text(t) if kind.takes_names() => name(t),
        Value::Text(t) => quoted(t),
    }
}

/// The filter's arguments in their fixed order (empty when it keeps everything).
fn arguments(filter: &FactFilter) -> Vec<String> {
    let mut out = Vec::new();
    match filter.window {
        Window::Ever => {}
        Window::Last(days) => out.push(format!("within = {days}d")),
        Window::Between(from, to) => out.push(format!("between = {from}..{to}")),
    }
    if let Some(sku) = &filter.sku {
        out.push(format!("sku = {}", quoted(sku)));
    }
    if let Some(category) = &filter.category {
        out.push(format!("category = {}", quoted(category)));
    }
    if let Some(channel) = filter.store_channel {
        out.push(format!("channel = {}", channel.as_str()));
    }
    if let Some(channel) = filter.interaction_channel {
        out.push(format!("channel = {}", channel.as_str()));
    }
    if let Some(store) = &filter.store {
        out.push(format!("store = {}", quoted(store)));
    }
    out
}

fn write_predicate(f: &mut Formatter<'_>, predicate: &Predicate) -> fmt::Result {
    match predicate {
        Predicate::Attribute { attribute, test } => {
            let kind = attribute.kind();
            let attribute = attribute.as_str();
            match test {
                AttributeTest::Compare(op, v) => {
                    write!(f, "{attribute} {} {}", op.as_str(), value(kind, v))
                }
                AttributeTest::In(values) => {
                    let values: Vec<String> = values.iter().map(|v| value(kind, v)).collect();
                    write!(f, "{attribute} in ({})", values.join(", "))
                }
                AttributeTest::Within(days) => write!(f, "{attribute} within {days}d"),
            }
        }
        Predicate::Measure {
            measure,
            filter,
            op,
            value,
        } => {
            let args = arguments(filter);
            f.write_str(measure.as_str())?;
            if !args.is_empty() {
                write!(f, "({})", args.join(", "))?;
            }
            write!(f, " {} {value}", op.as_str())
        }
        Predicate::Bought(filter) => write!(f, "bought({})", arguments(filter).join(", ")),
        Predicate::Event {
            kind,
            filter,
            no_purchase_since,
        } => {
            let mut args = vec![kind.as_str().to_owned()];
            args.extend(arguments(filter));
            if *no_purchase_since {
                args.push("no_purchase_since".to_owned());
            }
            write!(f, "event({})", args.join(", "))
        }
        Predicate::RepurchaseCycle {
            min_rate,
            min_buyers,
            sku,
            category,
        } => {
            let items = FactFilter {
                sku: sku.clone(),
                category: category.clone(),
                ..FactFilter::default()
            };
            let mut args = vec![format!("min_rate = {min_rate}")];
            if *min_buyers != REPURCHASE_MIN_BUYERS {
                args.push(format!("min_buyers = {min_buyers}"));
            }
            args.extend(arguments(&items));
            write!(f, "repurchase_cycle({})", args.join(", "))
        }
        Predicate::Consent(channel) => write!(f, "consent({})", channel.as_str()),
        Predicate::Tag(tag) => write!(f, "tag({})", quoted(tag)),
        Predicate::Segment(segment) => write!(f, "segment({})", quoted(segment)),
        Predicate::PointsExpiring { within, op, value } => {
            write!(
                f,
                "points_expiring(within = {within}d) {} {value}",
                op.as_str()
            )
        }
        Predicate::UnusedCoupons {
            template,
            expires_within,
            op,
            value,
        } => {
            let mut args = Vec::new();
            if let Some(template) = template {
                args.push(format!("template = {}", quoted(template)));
            }
            if let Some(days) = expires_within {
                args.push(format!("expires_within = {days}d"));
            }
            f.write_str("unused_coupons")?;
            if !args.is_empty() {
                write!(f, "({})", args.join(", "))?;
            }
            write!(f, " {} {value}", op.as_str())
        }
    }
}
