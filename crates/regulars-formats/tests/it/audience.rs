//! Audience rules in JSON: the same rules as the text form, and refusals that name the path.

use proptest::prelude::*;
use regulars_api_types::AudienceRuleJson;
use regulars_domain::audience::{parse_rule, strategies::rules};
use regulars_formats::audience::{rule_from_json, rule_to_json};

fn from_json(json: serde_json::Value) -> Result<String, Vec<String>> {
    let json: AudienceRuleJson = serde_json::from_value(json).map_err(|e| vec![e.to_string()])?;
    rule_from_json(&json)
        .map(|rule| rule.to_string())
        .map_err(|errors| errors.0.iter().map(ToString::to_string).collect())
}

#[test]
fn the_issue_example_in_json_is_the_same_rule_as_in_text() {
    let json = serde_json::json!({
        "include": {"all": [
            {"attribute": {"name": "nesl", "in": ["S1", "S2"]}},
            {"bought": {"category": "pastry", "within_days": 30}},
            {"not": {"tag": "vip"}}
        ]}
    });
    assert_eq!(
        from_json(json.clone()),
        Ok(
            r#"nesl in (S1, S2) and bought(within = 30d, category = "pastry") and not tag("vip")"#
                .to_owned()
        )
    );
    let text =
        r#"nesl in (S1, S2) and bought(category = "pastry", within = 30d) and not tag("vip")"#;
    let rule = parse_rule(text).expect("the example parses");
    assert_eq!(
        serde_json::to_value(rule_to_json(&rule)).expect("json"),
        json
    );
}

#[test]
fn every_json_shape_converts() {
    let json = serde_json::json!({
        "include": {"any": [
            {"attribute": {"name": "age", "op": ">=", "value": 30}},
            {"attribute": {"name": "last_purchase", "within_days": 30}},
            {"attribute": {"name": "joined", "op": "<", "value": "2026-01-01"}},
            {"measure": {"name": "spent", "op": ">", "value": 1000.5,
                         "filter": {"between": {"from": "2026-01-01", "to": "2026-03-31"}, "channel": "online"}}},
            {"measure": {"name": "interactions", "op": ">=", "value": 1,
                         "filter": {"channel": "line", "within_days": 30}}},
            {"event": {"kind": "cart_add", "no_purchase_since": true, "filter": {"within_days": 7}}},
            {"consent": "line"},
            {"segment": "interest users"},
            {"attribute": {"name": "tier", "op": ">=", "value": "gold"}},
            {"points_expiring": {"within_days": 30, "op": ">=", "value": 100}},
            {"unused_coupons": {"template": "birthday", "expires_within_days": 7, "op": ">=", "value": 1}}
        ]},
        "exclude": {"tag": "blacklisted"}
    });
    assert_eq!(
        from_json(json).map(|text| text.lines().map(str::to_owned).collect::<Vec<_>>()),
        Ok(vec![
            "include age >= 30 or last_purchase within 30d or joined < 2026-01-01 or \
             spent(between = 2026-01-01..2026-03-31, channel = online) > 1000.5 or \
             interactions(within = 30d, channel = line) >= 1 or \
             event(cart_add, within = 7d, no_purchase_since) or consent(line) or \
             segment(\"interest users\") or tier >= gold or \
             points_expiring(within = 30d) >= 100 or \
             unused_coupons(template = \"birthday\", expires_within = 7d) >= 1"
                .to_owned(),
            "exclude tag(\"blacklisted\")".to_owned(),
        ])
    );
}

#[test]
fn a_refused_json_rule_names_the_path_of_every_wrong_part() {
    let json = serde_json::json!({
        "include": {"all": [
            {"attribute": {"name": "shoe_size", "op": ">", "value": 40}},
            {"attribute": {"name": "nesl", "op": ">", "value": "S1"}},
            {"attribute": {"name": "age", "in": []}},
            {"measure": {"name": "orders", "op": "~", "value": 1.234}},
            {"any": []},
            {"event": {"kind": "basket", "filter": {"store": "S01"}}},
            {"bought": {"within_days": 7, "between": {"from": "2026-02-01", "to": "2026-01-01"}}}
        ]}
    });
    assert_eq!(
        from_json(json),
        Err(vec![
            "include.all[0].attribute.name: `shoe_size` is not an attribute (gender, age, birthday_month, birthday_day, days_to_birthday, months_to_birthday, region, joined, home_store, first_purchase, last_purchase, days_since_purchase, r_score, f_score, m_score, top_spender, rfm_cell, rfm_segment, rfm8, nesl, rfim, lifecycle, tier, points, pending_points)".to_owned(),
            "include.all[1].attribute.op: `nesl` takes only = and !=".to_owned(),
            "include.all[2].attribute.in: needs at least one value".to_owned(),
            "include.all[3].measure.op: `~` is not one of =, !=, <, <=, >, >=".to_owned(),
            "include.all[3].measure.value: must have at most two decimal places".to_owned(),
            "include.all[4].any: needs at least one condition".to_owned(),
            "include.all[5].event.kind: `basket` is not an event kind (view, cart_add, favorite, search, checkout_started)".to_owned(),
            "include.all[5].event.filter.store: does not apply here".to_owned(),
            "include.all[6].bought: `within_days` or `between`, not both".to_owned(),
        ])
    );
}

#[test]
fn an_unknown_key_is_refused_by_name() {
    let refused = from_json(serde_json::json!({"include": {"colour": "red"}}));
    let message = refused.expect_err("refused").join("\n");
    assert!(message.contains("unknown variant `colour`"), "{message}");
}

proptest! {
    #[test]
    fn text_to_json_to_text_is_the_same_text(rule in rules()) {
        let text = rule.to_string();
        let json = serde_json::to_string(&rule_to_json(&parse_rule(&text).expect("printed rules parse")))
            .expect("json");
        let back: AudienceRuleJson = serde_json::from_str(&json).expect("our json reads back");
        let back = rule_from_json(&back).map_err(|e| TestCaseError::fail(format!("{json}\n{e:?}")))?;
        prop_assert_eq!(back.to_string(), text);
    }
}
