//! Audience rules between their JSON form (`regulars_api_types::AudienceRuleJson`, for the API
//! and the dashboard) and the domain's rule (which the text form also reads and writes). Every
//! refusal names the JSON path of the part that was wrong.

use regulars_api_types::{
    AttributeTestJson, AudienceRuleJson, ConditionJson, DateRangeJson, EventJson, FactFilterJson,
    MeasureJson, PointsExpiringJson, RepurchaseCycleJson, ScalarJson, UnusedCouponsJson,
};
use regulars_domain::audience::{
    Attribute, AttributeKind, AttributeTest, AudienceRule, CompareOp, Condition, FactFilter,
    FilterScope, Measure, Number, Predicate, REPURCHASE_MIN_BUYERS, Value, Window,
};
use regulars_domain::{
    ConsentChannel, EventKind, FieldError, FieldErrors, InteractionChannel, StoreChannel,
    parse_date,
};

/// The rule a JSON rule means, or every part that was wrong.
pub fn rule_from_json(json: &AudienceRuleJson) -> Result<AudienceRule, FieldErrors> {
    let mut errors = FieldErrors::default();
    let include = condition(&json.include, "include", &mut errors);
    let exclude = json
        .exclude
        .as_ref()
        .map(|c| condition(c, "exclude", &mut errors));
    match (include, exclude) {
        (Some(include), None) if errors.0.is_empty() => Ok(AudienceRule {
            include,
            exclude: None,
        }),
        (Some(include), Some(Some(exclude))) if errors.0.is_empty() => Ok(AudienceRule {
            include,
            exclude: Some(exclude),
        }),
        _ => Err(errors),
    }
}

/// The JSON form of a rule.
pub fn rule_to_json(rule: &AudienceRule) -> AudienceRuleJson {
    AudienceRuleJson {
        include: condition_json(&rule.include),
        exclude: rule.exclude.as_ref().map(condition_json),
    }
}

fn refuse<T>(errors: &mut FieldErrors, path: &str, reason: impl Into<String>) -> Option<T> {
    errors.0.push(FieldError::new(path, reason));
    None
}

fn condition(json: &ConditionJson, path: &str, errors: &mut FieldErrors) -> Option<Condition> {
    match json {
        ConditionJson::All(parts) | ConditionJson::Any(parts) => {
            let (key, all) = match json {
                ConditionJson::All(_) => ("all", true),
                _ => ("any", false),
            };
            if parts.is_empty() {
                return refuse(
                    errors,
                    &format!("{path}.{key}"),
                    "needs at least one condition",
                );
            }
            let converted: Vec<Option<Condition>> = parts
                .iter()
                .enumerate()
                .map(|(i, part)| condition(part, &format!("{path}.{key}[{i}]"), errors))
                .collect();
            let mut converted: Vec<Condition> = converted.into_iter().collect::<Option<_>>()?;
            Some(match (converted.len(), all) {
                (1, _) => converted.remove(0),
                (_, true) => Condition::All(converted),
                (_, false) => Condition::Any(converted),
            })
        }
        ConditionJson::Not(inner) => {
            condition(inner, &format!("{path}.not"), errors).map(|c| Condition::Not(Box::new(c)))
        }
        ConditionJson::Attribute(test) => {
            attribute(test, &format!("{path}.attribute"), errors).map(Condition::Test)
        }
        ConditionJson::Measure(measure_json) => {
            measure(measure_json, &format!("{path}.measure"), errors).map(Condition::Test)
        }
        ConditionJson::Bought(filter_json) => {
            let filter = filter(
                filter_json,
                &format!("{path}.bought"),
                FilterScope::Orders,
                errors,
            )?;
            Some(Condition::Test(Predicate::Bought(filter)))
        }
        ConditionJson::Event(event_json) => {
            event(event_json, &format!("{path}.event"), errors).map(Condition::Test)
        }
        ConditionJson::RepurchaseCycle(json) => {
            let at = format!("{path}.repurchase_cycle.min_rate");
            let min_rate = number(json.min_rate, &at, errors)?;
            if min_rate > Number::whole(100) {
                return refuse(errors, &at, "must be a percentage from 0 to 100");
            }
            let min_buyers = json.min_buyers.unwrap_or(REPURCHASE_MIN_BUYERS);
            if min_buyers == 0 {
                let at = format!("{path}.repurchase_cycle.min_buyers");
                return refuse(errors, &at, "must be 1 or more");
            }
            Some(Condition::Test(Predicate::RepurchaseCycle {
                min_rate,
                min_buyers,
                sku: json.sku.clone(),
                category: json.category.clone(),
            }))
        }
        ConditionJson::Consent(channel) => ConsentChannel::parse(channel)
            .map_err(|reason| errors.push(format!("{path}.consent"), reason))
            .ok()
            .map(|c| Condition::Test(Predicate::Consent(c))),
        ConditionJson::Tag(tag) => Some(Condition::Test(Predicate::Tag(tag.clone()))),
        ConditionJson::Segment(segment) => {
            Some(Condition::Test(Predicate::Segment(segment.clone())))
        }
        ConditionJson::PointsExpiring(json) => {
            let at = format!("{path}.points_expiring");
            let op = operator(&json.op, &format!("{at}.op"), errors);
            let value = number(json.value, &format!("{at}.value"), errors);
            Some(Condition::Test(Predicate::PointsExpiring {
                within: json.within_days,
                op: op?,
                value: value?,
            }))
        }
        ConditionJson::UnusedCoupons(json) => {
            let at = format!("{path}.unused_coupons");
            let op = operator(&json.op, &format!("{at}.op"), errors);
            let value = number(json.value, &format!("{at}.value"), errors);
            Some(Condition::Test(Predicate::UnusedCoupons {
                template: json.template.clone(),
                expires_within: json.expires_within_days,
                op: op?,
                value: value?,
            }))
        }
    }
}

fn operator(symbol: &str, path: &str, errors: &mut FieldErrors) -> Option<CompareOp> {
    CompareOp::parse(symbol).or_else(|| {
        refuse(
            errors,
            path,
            format!("`{symbol}` is not one of =, !=, <, <=, >, >="),
        )
    })
}

/// A JSON number as the rule's exact number: not negative, at most two decimal places.
fn number(value: f64, path: &str, errors: &mut FieldErrors) -> Option<Number> {
    let hundredths = value * 100.0;
    if !value.is_finite() || value < 0.0 || hundredths > 9.0e15 {
        return refuse(errors, path, "must be a number from 0 up");
    }
    if (hundredths - hundredths.round()).abs() > 1e-6 {
        return refuse(errors, path, "must have at most two decimal places");
    }
    #[allow(clippy::cast_possible_truncation)] // checked finite and in range above
    Some(Number(hundredths.round() as i64))
}

fn value(
    attribute: Attribute,
    json: &ScalarJson,
    path: &str,
    errors: &mut FieldErrors,
) -> Option<Value> {
    match (attribute.kind(), json) {
        (AttributeKind::Number, ScalarJson::Number(n)) => {
            number(*n, path, errors).map(Value::Number)
        }
        (AttributeKind::Number, ScalarJson::Text(_)) => refuse(
            errors,
            path,
            format!("`{}` takes a number", attribute.as_str()),
        ),
        (AttributeKind::Date, ScalarJson::Text(text)) => parse_date(text)
            .map_err(|reason| errors.push(path, reason))
            .ok()
            .map(Value::Date),
        (AttributeKind::Date, ScalarJson::Number(_)) => refuse(
            errors,
            path,
            format!("`{}` takes a date such as 2026-01-31", attribute.as_str()),
        ),
        (_, ScalarJson::Text(text)) => Some(Value::Text(text.clone())),
        (_, ScalarJson::Number(_)) => {
            refuse(errors, path, format!("`{}` takes text", attribute.as_str()))
        }
    }
}

fn attribute(json: &AttributeTestJson, path: &str, errors: &mut FieldErrors) -> Option<Predicate> {
    let Some(attribute) = Attribute::parse(&json.name) else {
        let names: Vec<&str> = Attribute::ALL.iter().map(|a| a.as_str()).collect();
        return refuse(
            errors,
            &format!("{path}.name"),
            format!("`{}` is not an attribute ({})", json.name, names.join(", ")),
        );
    };
    let tests = usize::from(json.op.is_some() || json.value.is_some())
        + usize::from(json.one_of.is_some())
        + usize::from(json.within_days.is_some());
    if tests != 1 {
        return refuse(
            errors,
            path,
            "needs exactly one test: `op` with `value`, `in`, or `within_days`",
        );
    }
    let test = if let Some(values) = &json.one_of {
        if values.is_empty() {
            return refuse(errors, &format!("{path}.in"), "needs at least one value");
        }
        let values: Vec<Option<Value>> = values
            .iter()
            .enumerate()
            .map(|(i, v)| value(attribute, v, &format!("{path}.in[{i}]"), errors))
            .collect();
        AttributeTest::In(values.into_iter().collect::<Option<_>>()?)
    } else if let Some(days) = json.within_days {
        if attribute.kind() != AttributeKind::Date {
            return refuse(
                errors,
                &format!("{path}.within_days"),
                format!("`{}` is not a date", attribute.as_str()),
            );
        }
        AttributeTest::Within(days)
    } else {
        let (Some(op), Some(v)) = (&json.op, &json.value) else {
            return refuse(errors, path, "`op` and `value` go together");
        };
        let op = operator(op, &format!("{path}.op"), errors)?;
        if !attribute.kind().is_ordered() && !matches!(op, CompareOp::Eq | CompareOp::Ne) {
            return refuse(
                errors,
                &format!("{path}.op"),
                format!("`{}` takes only = and !=", attribute.as_str()),
            );
        }
        AttributeTest::Compare(op, value(attribute, v, &format!("{path}.value"), errors)?)
    };
    Some(Predicate::Attribute { attribute, test })
}

fn filter(
    json: &FactFilterJson,
    path: &str,
    scope: FilterScope,
    errors: &mut FieldErrors,
) -> Option<FactFilter> {
    let before = errors.0.len();
    let mut out = FactFilter::default();
    match (json.within_days, &json.between) {
        (Some(_), Some(_)) => {
            errors.push(path, "`within_days` or `between`, not both");
        }
        (Some(days), None) => out.window = Window::Last(days),
        (None, Some(DateRangeJson { from, to })) => {
            let from = parse_date(from).map_err(|r| errors.push(format!("{path}.between.from"), r));
            let to = parse_date(to).map_err(|r| errors.push(format!("{path}.between.to"), r));
            if let (Ok(from), Ok(to)) = (from, to) {
                if to < from {
                    errors.push(format!("{path}.between.to"), "is before `from`");
                }
                out.window = Window::Between(from, to);
            }
        }
        (None, None) => {}
    }
    for (key, given, applies) in [
        ("sku", json.sku.is_some(), scope.takes_items()),
        ("category", json.category.is_some(), scope.takes_items()),
        ("store", json.store.is_some(), scope.takes_store()),
        ("channel", json.channel.is_some(), scope.takes_channel()),
    ] {
        if given && !applies {
            errors.push(format!("{path}.{key}"), "does not apply here");
        }
    }
    if scope.takes_items() {
        out.sku.clone_from(&json.sku);
        out.category.clone_from(&json.category);
    }
    if scope.takes_store() {
        out.store.clone_from(&json.store);
    }
    if let Some(channel) = json.channel.as_deref().filter(|_| scope.takes_channel()) {
        let channel_path = format!("{path}.channel");
        if scope == FilterScope::Interactions {
            match InteractionChannel::parse(channel) {
                Ok(c) => out.interaction_channel = Some(c),
                Err(reason) => errors.push(channel_path, reason),
            }
        } else {
            match StoreChannel::parse(channel) {
                Ok(c) => out.store_channel = Some(c),
                Err(reason) => errors.push(channel_path, reason),
            }
        }
    }
    (errors.0.len() == before).then_some(out)
}

fn measure(json: &MeasureJson, path: &str, errors: &mut FieldErrors) -> Option<Predicate> {
    let Some(measure) = Measure::parse(&json.name) else {
        let names: Vec<&str> = Measure::ALL.iter().map(|m| m.as_str()).collect();
        return refuse(
            errors,
            &format!("{path}.name"),
            format!("`{}` is not a measure ({})", json.name, names.join(", ")),
        );
    };
    let op = operator(&json.op, &format!("{path}.op"), errors);
    let value = number(json.value, &format!("{path}.value"), errors);
    let filter = match &json.filter {
        Some(f) => filter(
            f,
            &format!("{path}.filter"),
            FilterScope::of_measure(measure),
            errors,
        ),
        None => Some(FactFilter::default()),
    };
    Some(Predicate::Measure {
        measure,
        filter: filter?,
        op: op?,
        value: value?,
    })
}

fn event(json: &EventJson, path: &str, errors: &mut FieldErrors) -> Option<Predicate> {
    let kind = EventKind::parse(&json.kind)
        .map_err(|reason| errors.push(format!("{path}.kind"), reason))
        .ok();
    let filter = match &json.filter {
        Some(f) => filter(f, &format!("{path}.filter"), FilterScope::Events, errors),
        None => Some(FactFilter::default()),
    };
    Some(Predicate::Event {
        kind: kind?,
        filter: filter?,
        no_purchase_since: json.no_purchase_since,
    })
}

fn condition_json(condition: &Condition) -> ConditionJson {
    match condition {
        Condition::All(parts) => ConditionJson::All(parts.iter().map(condition_json).collect()),
        Condition::Any(parts) => ConditionJson::Any(parts.iter().map(condition_json).collect()),
        Condition::Not(inner) => ConditionJson::Not(Box::new(condition_json(inner))),
        Condition::Test(predicate) => predicate_json(predicate),
    }
}

#[allow(clippy::cast_precision_loss)] // rule numbers stay far below 2^53 hundredths
fn scalar_json(value: &Value) -> ScalarJson {
    match value {
        Value::Number(n) => ScalarJson::Number(n.hundredths() as f64 / 100.0),
        Value::Text(t) => ScalarJson::Text(t.clone()),
        Value::Date(d) => ScalarJson::Text(d.to_string()),
    }
}

fn filter_json(filter: &FactFilter) -> Option<FactFilterJson> {
    if filter == &FactFilter::default() {
        return None;
    }
    let (within_days, between) = match filter.window {
        Window::Ever => (None, None),
        Window::Last(days) => (Some(days), None),
        Window::Between(from, to) => (
            None,
            Some(DateRangeJson {
                from: from.to_string(),
                to: to.to_string(),
            }),
        ),
    };
    let channel = filter
        .store_channel
        .map(|c| c.as_str().to_owned())
        .or_else(|| filter.interaction_channel.map(|c| c.as_str().to_owned()));
    Some(FactFilterJson {
        within_days,
        between,
        sku: filter.sku.clone(),
        category: filter.category.clone(),
        channel,
        store: filter.store.clone(),
    })
}

fn predicate_json(predicate: &Predicate) -> ConditionJson {
    match predicate {
        Predicate::Attribute { attribute, test } => {
            let mut json = AttributeTestJson {
                name: attribute.as_str().to_owned(),
                op: None,
                value: None,
                one_of: None,
                within_days: None,
            };
            match test {
                AttributeTest::Compare(op, value) => {
                    json.op = Some(op.as_str().to_owned());
                    json.value = Some(scalar_json(value));
                }
                AttributeTest::In(values) => {
                    json.one_of = Some(values.iter().map(scalar_json).collect());
                }
                AttributeTest::Within(days) => json.within_days = Some(*days),
            }
            ConditionJson::Attribute(json)
        }
        #[allow(clippy::cast_precision_loss)] // rule numbers stay far below 2^53 hundredths
        Predicate::Measure {
            measure,
            filter,
            op,
            value,
        } => ConditionJson::Measure(MeasureJson {
            name: measure.as_str().to_owned(),
            op: op.as_str().to_owned(),
            value: value.hundredths() as f64 / 100.0,
            filter: filter_json(filter),
        }),
        Predicate::Bought(filter) => ConditionJson::Bought(filter_json(filter).unwrap_or_default()),
        Predicate::Event {
            kind,
            filter,
            no_purchase_since,
        } => ConditionJson::Event(EventJson {
            kind: kind.as_str().to_owned(),
            no_purchase_since: *no_purchase_since,
            filter: filter_json(filter),
        }),
        #[allow(clippy::cast_precision_loss)] // at most 10,000 hundredths
        Predicate::RepurchaseCycle {
            min_rate,
            min_buyers,
            sku,
            category,
        } => ConditionJson::RepurchaseCycle(RepurchaseCycleJson {
            min_rate: min_rate.hundredths() as f64 / 100.0,
            min_buyers: (*min_buyers != REPURCHASE_MIN_BUYERS).then_some(*min_buyers),
            sku: sku.clone(),
            category: category.clone(),
        }),
        Predicate::Consent(channel) => ConditionJson::Consent(channel.as_str().to_owned()),
        Predicate::Tag(tag) => ConditionJson::Tag(tag.clone()),
        Predicate::Segment(segment) => ConditionJson::Segment(segment.clone()),
        #[allow(clippy::cast_precision_loss)] // rule numbers stay far below 2^53 hundredths
        Predicate::PointsExpiring { within, op, value } => {
            ConditionJson::PointsExpiring(PointsExpiringJson {
                within_days: *within,
                op: op.as_str().to_owned(),
                value: value.hundredths() as f64 / 100.0,
            })
        }
        #[allow(clippy::cast_precision_loss)] // rule numbers stay far below 2^53 hundredths
        Predicate::UnusedCoupons {
            template,
            expires_within,
            op,
            value,
        } => ConditionJson::UnusedCoupons(UnusedCouponsJson {
            template: template.clone(),
            expires_within_days: *expires_within,
            op: op.as_str().to_owned(),
            value: value.hundredths() as f64 / 100.0,
        }),
    }
}
