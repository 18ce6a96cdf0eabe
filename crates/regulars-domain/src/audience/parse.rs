//! Text → [`AudienceRule`]: a recursive-descent parser whose errors say the line, the column,
//! what was expected there and what was found.

use super::lex::{Spanned, Token, tokens};
use super::{
    Attribute, AttributeKind, AttributeTest, AudienceRule, CompareOp, Condition, FactFilter,
    FilterScope, Measure, Number, Predicate, REPURCHASE_MIN_BUYERS, Value, Window,
};
use crate::{ConsentChannel, EventKind, InteractionChannel, StoreChannel};

/// Why a rule's text was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: expected {expected}, found {found}")]
pub struct ParseError {
    /// The line, from 1.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
    /// What would have been understood there.
    pub expected: String,
    /// What was there.
    pub found: String,
}

impl ParseError {
    /// An error at byte `offset` of `text`.
    pub(super) fn at(text: &str, offset: usize, expected: &str, found: &str) -> Self {
        let before = &text[..offset.min(text.len())];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Self {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            expected: expected.to_owned(),
            found: found.to_owned(),
        }
    }
}

/// Words that are never an attribute, a function or a bare value.
pub(super) const KEYWORDS: [&str; 7] = ["and", "or", "not", "in", "within", "include", "exclude"];

/// Reads a rule: `[include] CONDITION [exclude CONDITION]`.
pub fn parse_rule(text: &str) -> Result<AudienceRule, ParseError> {
    let mut parser = Parser {
        text,
        tokens: tokens(text)?,
        pos: 0,
    };
    parser.eat_keyword("include");
    let include = parser.condition()?;
    let exclude = if parser.eat_keyword("exclude") {
        Some(parser.condition()?)
    } else {
        None
    };
    if parser.peek() != &Token::End {
        let expected = if exclude.is_some() {
            "`and`, `or` or the end of the rule"
        } else {
            "`and`, `or`, `exclude` or the end of the rule"
        };
        return Err(parser.error(expected));
    }
    Ok(AudienceRule { include, exclude })
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Spanned>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos].token
    }

    fn next(&mut self) -> Spanned {
        let token = self.tokens[self.pos].clone();
        if token.token != Token::End {
            self.pos += 1;
        }
        token
    }

    fn is_keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Token::Ident(name) if name.eq_ignore_ascii_case(word))
    }

    fn eat_keyword(&mut self, word: &str) -> bool {
        let found = self.is_keyword(word);
        if found {
            self.pos += 1;
        }
        found
    }

    /// An error at the next token.
    fn error(&self, expected: &str) -> ParseError {
        let next = &self.tokens[self.pos];
        ParseError::at(self.text, next.at, expected, &next.token.describe())
    }

    /// An error at an earlier token.
    fn error_at(&self, at: &Spanned, expected: &str) -> ParseError {
        ParseError::at(self.text, at.at, expected, &at.token.describe())
    }

    fn expect(&mut self, token: &Token, expected: &str) -> Result<(), ParseError> {
        if self.peek() == token {
            self.next();
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    /// `a or b or …`
    fn condition(&mut self) -> Result<Condition, ParseError> {
        let mut any = vec![self.conjunction()?];
        while self.eat_keyword("or") {
            any.push(self.conjunction()?);
        }
        Ok(if any.len() == 1 {
            any.remove(0)
        } else {
            Condition::Any(any)
        })
    }

    /// `a and b and …`
    fn conjunction(&mut self) -> Result<Condition, ParseError> {
        let mut all = vec![self.unary()?];
        while self.eat_keyword("and") {
            all.push(self.unary()?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Condition::All(all)
        })
    }

    fn unary(&mut self) -> Result<Condition, ParseError> {
        if self.eat_keyword("not") {
            return Ok(Condition::Not(Box::new(self.unary()?)));
        }
        if self.peek() == &Token::Open {
            self.next();
            let inner = self.condition()?;
            self.expect(&Token::Close, "`and`, `or` or `)`")?;
            return Ok(inner);
        }
        self.predicate().map(Condition::Test)
    }

    fn predicate(&mut self) -> Result<Predicate, ParseError> {
        const A_CONDITION: &str = "a condition: an attribute such as `nesl` or `age`, a measure \
             such as `orders(…)`, `bought(…)`, `event(…)`, `repurchase_cycle(…)`, \
             `points_expiring(…)`, `unused_coupons`, `consent(…)`, `tag(…)`, `segment(…)`, \
             `not` or `(`";
        let Token::Ident(name) = self.peek().clone() else {
            return Err(self.error(A_CONDITION));
        };
        if KEYWORDS.iter().any(|k| name.eq_ignore_ascii_case(k)) {
            return Err(self.error(A_CONDITION));
        }
        if let Some(attribute) = Attribute::parse(&name) {
            self.next();
            return self.attribute_test(attribute);
        }
        if let Some(measure) = Measure::parse(&name) {
            self.next();
            let filter = if self.peek() == &Token::Open {
                self.next();
                let scope = FilterScope::of_measure(measure);
                self.arguments(scope, FactFilter::default(), &mut false)?
            } else {
                FactFilter::default()
            };
            let op = self.operator(&format!("a comparison after `{name}`"), true)?;
            let value = self.number()?;
            return Ok(Predicate::Measure {
                measure,
                filter,
                op,
                value,
            });
        }
        let call = self.next();
        match name.as_str() {
            "points_expiring" => {
                self.expect(&Token::Open, "`(` after `points_expiring`")?;
                let within = self.days_argument("within")?;
                self.expect(&Token::Close, "`)`")?;
                let op = self.operator("a comparison after `points_expiring(…)`", true)?;
                let value = self.number()?;
                Ok(Predicate::PointsExpiring { within, op, value })
            }
            "unused_coupons" => self.unused_coupons(),
            "bought" => {
                self.expect(&Token::Open, "`(` after `bought`")?;
                let filter =
                    self.arguments(FilterScope::Orders, FactFilter::default(), &mut false)?;
                Ok(Predicate::Bought(filter))
            }
            "event" => {
                self.expect(&Token::Open, "`(` after `event`")?;
                let kind = self.name_of("an event kind", EventKind::parse)?;
                let mut no_purchase_since = false;
                let filter = if self.peek() == &Token::Comma {
                    self.next();
                    let scope = FilterScope::Events;
                    self.arguments(scope, FactFilter::default(), &mut no_purchase_since)?
                } else {
                    self.expect(&Token::Close, "`,` or `)`")?;
                    FactFilter::default()
                };
                Ok(Predicate::Event {
                    kind,
                    filter,
                    no_purchase_since,
                })
            }
            "repurchase_cycle" => {
                self.expect(&Token::Open, "`(` after `repurchase_cycle`")?;
                self.repurchase_cycle()
            }
            "consent" => {
                self.expect(&Token::Open, "`(` after `consent`")?;
                let channel = self.name_of("a consent channel", ConsentChannel::parse)?;
                self.expect(&Token::Close, "`)`")?;
                Ok(Predicate::Consent(channel))
            }
            "tag" | "segment" => {
                self.expect(&Token::Open, &format!("`(` after `{name}`"))?;
                let what = if name == "tag" {
                    "a tag name"
                } else {
                    "a segment name"
                };
                let value = self.text(what)?;
                self.expect(&Token::Close, "`)`")?;
                Ok(if name == "tag" {
                    Predicate::Tag(value)
                } else {
                    Predicate::Segment(value)
                })
            }
            _ => Err(self.error_at(&call, A_CONDITION)),
        }
    }

    /// `NAME = Nd`.
    fn days_argument(&mut self, name: &str) -> Result<u32, ParseError> {
        let token = self.next();
        if !matches!(&token.token, Token::Ident(n) if n == name) {
            return Err(self.error_at(&token, &format!("`{name} = Nd`")));
        }
        self.expect(&Token::Op("="), &format!("`=` after `{name}`"))?;
        self.days()
    }

    /// A number of days, `30d`.
    fn days(&mut self) -> Result<u32, ParseError> {
        let token = self.next();
        match token.token {
            Token::Days(days) => Ok(days),
            _ => Err(self.error_at(&token, "a number of days such as 30d")),
        }
    }

    /// `name = value, …` up to (not past) the closing `)`, each of `names` at most once: `value`
    /// reads what follows each argument's `=`.
    fn named_arguments(
        &mut self,
        names: &[&str],
        mut value: impl FnMut(&mut Self, &str) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        let listed: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        let expected = format!("an argument: {}", listed.join(", "));
        let mut seen: Vec<String> = Vec::new();
        if self.peek() == &Token::Close {
            return Ok(());
        }
        loop {
            let token = self.next();
            let name = match &token.token {
                Token::Ident(name) if names.contains(&name.as_str()) => name.clone(),
                _ => return Err(self.error_at(&token, &expected)),
            };
            if seen.contains(&name) {
                return Err(self.error_at(&token, "each argument once"));
            }
            self.expect(&Token::Op("="), &format!("`=` after `{name}`"))?;
            value(self, &name)?;
            seen.push(name);
            if self.peek() == &Token::Close {
                return Ok(());
            }
            self.expect(&Token::Comma, "`,` or `)`")?;
        }
    }

    /// `[(template = …, expires_within = Nd)] OP N` after `unused_coupons`.
    fn unused_coupons(&mut self) -> Result<Predicate, ParseError> {
        let (mut template, mut expires_within) = (None, None);
        if self.peek() == &Token::Open {
            self.next();
            self.named_arguments(&["template", "expires_within"], |parser, name| {
                if name == "template" {
                    template = Some(parser.text("a template name")?);
                } else {
                    expires_within = Some(parser.days()?);
                }
                Ok(())
            })?;
            self.next();
        }
        let op = self.operator("a comparison after `unused_coupons`", true)?;
        let value = self.number()?;
        Ok(Predicate::UnusedCoupons {
            template,
            expires_within,
            op,
            value,
        })
    }

    fn attribute_test(&mut self, attribute: Attribute) -> Result<Predicate, ParseError> {
        let name = attribute.as_str();
        let kind = attribute.kind();
        let ordered = kind.is_ordered();
        let test = if self.eat_keyword("in") {
            self.expect(&Token::Open, &format!("`(` after `{name} in`"))?;
            let mut values = vec![self.value(attribute)?];
            while self.peek() == &Token::Comma {
                self.next();
                values.push(self.value(attribute)?);
            }
            self.expect(&Token::Close, "`,` or `)`")?;
            AttributeTest::In(values)
        } else if kind == AttributeKind::Date && self.eat_keyword("within") {
            AttributeTest::Within(self.days()?)
        } else {
            let expected = match kind {
                AttributeKind::Date => format!("a comparison, `in` or `within` after `{name}`"),
                AttributeKind::Number | AttributeKind::Level => {
                    format!("a comparison or `in` after `{name}`")
                }
                _ => format!("`=`, `!=` or `in` after `{name}`"),
            };
            let op = self.operator(&expected, ordered)?;
            AttributeTest::Compare(op, self.value(attribute)?)
        };
        Ok(Predicate::Attribute { attribute, test })
    }

    /// A comparison operator; only `=` and `!=` unless `ordered`.
    fn operator(&mut self, expected: &str, ordered: bool) -> Result<CompareOp, ParseError> {
        match self.peek() {
            Token::Op(symbol) => {
                let op = CompareOp::parse(symbol).expect("the lexer makes only operators");
                if !ordered && !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                    return Err(self.error(expected));
                }
                self.next();
                Ok(op)
            }
            _ => Err(self.error(expected)),
        }
    }

    fn number(&mut self) -> Result<Number, ParseError> {
        let token = self.next();
        match &token.token {
            Token::Number(text) => Number::parse(text)
                .map_err(|reason| ParseError::at(self.text, token.at, "a number", &reason)),
            _ => Err(self.error_at(&token, "a number")),
        }
    }

    fn value(&mut self, attribute: Attribute) -> Result<Value, ParseError> {
        let name = attribute.as_str();
        match attribute.kind() {
            AttributeKind::Number => self.number().map(Value::Number).map_err(|mut e| {
                e.expected = format!("a number for `{name}`");
                e
            }),
            AttributeKind::Date => {
                let token = self.next();
                match token.token {
                    Token::Date(date) => Ok(Value::Date(date)),
                    _ => Err(self.error_at(&token, &format!("a date for `{name}`"))),
                }
            }
            AttributeKind::Text | AttributeKind::Name | AttributeKind::Level => {
                self.text(&format!("a value for `{name}`")).map(Value::Text)
            }
        }
    }

    /// A quoted string, or a bare name that is not a keyword.
    fn text(&mut self, expected: &str) -> Result<String, ParseError> {
        let token = self.next();
        match token.token {
            Token::Str(text) => Ok(text),
            Token::Ident(name) if !KEYWORDS.iter().any(|k| name.eq_ignore_ascii_case(k)) => {
                Ok(name)
            }
            _ => Err(self.error_at(&token, expected)),
        }
    }

    /// One of a fixed set of names, read by `parse`.
    fn name_of<T>(
        &mut self,
        expected: &str,
        parse: fn(&str) -> Result<T, String>,
    ) -> Result<T, ParseError> {
        let token = self.next();
        match &token.token {
            Token::Ident(name) | Token::Str(name) => {
                parse(name).map_err(|reason| ParseError::at(self.text, token.at, expected, &reason))
            }
            _ => Err(self.error_at(&token, expected)),
        }
    }

    /// `min_rate = N, min_buyers = N, sku = …, category = …)` after `repurchase_cycle(`.
    fn repurchase_cycle(&mut self) -> Result<Predicate, ParseError> {
        let (mut min_rate, mut min_buyers, mut sku, mut category) = (None, None, None, None);
        let names = ["min_rate", "min_buyers", "sku", "category"];
        self.named_arguments(&names, |parser, name| {
            match name {
                "min_rate" => {
                    let at = parser.tokens[parser.pos].at;
                    let rate = parser.number()?;
                    if rate > Number::whole(100) {
                        return Err(ParseError::at(
                            parser.text,
                            at,
                            "a percentage from 0 to 100",
                            &rate.to_string(),
                        ));
                    }
                    min_rate = Some(rate);
                }
                "min_buyers" => {
                    let token = parser.next();
                    let buyers = match &token.token {
                        Token::Number(text) => text.parse::<u32>().ok().filter(|n| *n >= 1),
                        _ => None,
                    };
                    let Some(buyers) = buyers else {
                        return Err(parser.error_at(&token, "a whole number of buyers, 1 or more"));
                    };
                    min_buyers = Some(buyers);
                }
                "sku" => sku = Some(parser.text("a sku")?),
                _ => category = Some(parser.text("a category")?),
            }
            Ok(())
        })?;
        let Some(min_rate) = min_rate else {
            return Err(self.error("`min_rate = N`, the least repurchase rate in percent"));
        };
        self.next();
        Ok(Predicate::RepurchaseCycle {
            min_rate,
            min_buyers: min_buyers.unwrap_or(REPURCHASE_MIN_BUYERS),
            sku,
            category,
        })
    }

    /// `name = value, …)` after an opening `(`; `flag` is set by a bare `no_purchase_since`.
    fn arguments(
        &mut self,
        scope: FilterScope,
        mut filter: FactFilter,
        flag: &mut bool,
    ) -> Result<FactFilter, ParseError> {
        let mut seen: Vec<String> = Vec::new();
        if self.peek() == &Token::Close {
            self.next();
            return Ok(filter);
        }
        loop {
            let token = self.next();
            let Token::Ident(name) = &token.token else {
                return Err(
                    self.error_at(&token, &format!("an argument: {}", scope.argument_names()))
                );
            };
            let group = if name == "between" {
                "within"
            } else {
                name.as_str()
            };
            if seen.iter().any(|s| s == group) {
                return Err(self.error_at(
                    &token,
                    "each argument once (and `within` or `between`, not both)",
                ));
            }
            seen.push(group.to_owned());
            match name.as_str() {
                "no_purchase_since" if scope == FilterScope::Events => *flag = true,
                _ => {
                    let known = match name.as_str() {
                        "within" | "between" => true,
                        "sku" | "category" => scope.takes_items(),
                        "store" => scope.takes_store(),
                        "channel" => scope.takes_channel(),
                        _ => false,
                    };
                    if !known {
                        return Err(self.error_at(
                            &token,
                            &format!("an argument: {}", scope.argument_names()),
                        ));
                    }
                    self.expect(&Token::Op("="), &format!("`=` after `{name}`"))?;
                    self.argument(name, scope, &mut filter)?;
                }
            }
            match self.next() {
                Spanned {
                    token: Token::Comma,
                    ..
                } => {}
                Spanned {
                    token: Token::Close,
                    ..
                } => return Ok(filter),
                other => return Err(self.error_at(&other, "`,` or `)`")),
            }
        }
    }

    fn argument(
        &mut self,
        name: &str,
        scope: FilterScope,
        filter: &mut FactFilter,
    ) -> Result<(), ParseError> {
        match name {
            "within" => filter.window = Window::Last(self.days()?),
            "between" => {
                let from = self.next();
                let Token::Date(start) = from.token else {
                    return Err(self.error_at(&from, "a date such as 2026-01-01"));
                };
                self.expect(&Token::Range, "`..` and the last day")?;
                let to = self.next();
                let Token::Date(end) = to.token else {
                    return Err(self.error_at(&to, "a date such as 2026-03-31"));
                };
                if end < start {
                    return Err(self.error_at(&to, &format!("a last day on or after {start}")));
                }
                filter.window = Window::Between(start, end);
            }
            "sku" => filter.sku = Some(self.text("a sku")?),
            "category" => filter.category = Some(self.text("a category")?),
            "store" => filter.store = Some(self.text("a store id")?),
            "channel" if scope == FilterScope::Interactions => {
                filter.interaction_channel =
                    Some(self.name_of("an interaction channel", InteractionChannel::parse)?);
            }
            _ => {
                filter.store_channel =
                    Some(self.name_of("online or offline", StoreChannel::parse)?);
            }
        }
        Ok(())
    }
}
