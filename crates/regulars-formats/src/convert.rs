//! Requests to facts: every rule a field must pass, applied the same way to API bodies, JSON Lines
//! and CSV rows (which are first read into these request shapes). Errors are collected field by
//! field, so one pass names everything wrong with a record.

use jiff::Timestamp;
use regulars_api_types::{
    EventRequest, InteractionRequest, MemberRequest, OrderLineImportRequest, OrderLineRequest,
    OrderRequest, ReturnRequest, StoreRequest,
};
use regulars_domain::{
    BehaviourEvent, Consent, ConsentChannel, Currency, Email, EventId, EventKind, FieldErrors,
    Gender, Interaction, InteractionChannel, InteractionId, InteractionKind, LineUserId, MemberId,
    MemberProfile, Money, NewReturn, Order, OrderId, OrderLine, OrderStatus, Phone, ReturnId,
    ReturnLine, Sku, Store, StoreChannel, StoreId, derived_id, parse_date, parse_instant,
    parse_text,
};

use crate::ParseContext;

/// The longest names (members, products, stores), in characters.
const MAX_NAME_CHARS: usize = 200;
/// The longest short labels (region, category, consent source, coupon code), in characters.
const MAX_LABEL_CHARS: usize = 100;
/// The longest search text, in characters.
const MAX_QUERY_CHARS: usize = 500;

fn text(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&String>,
    max: usize,
) -> Option<String> {
    value.and_then(|v| errors.check(field, parse_text(v, max)).flatten())
}

fn optional<T>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&String>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Option<T> {
    let value = value.map(|v| v.trim()).filter(|v| !v.is_empty())?;
    errors.check(field, parse(value))
}

fn currency(errors: &mut FieldErrors, value: Option<&String>, context: &ParseContext) -> Currency {
    optional(errors, "currency", value, Currency::parse).unwrap_or(context.currency)
}

fn non_negative(errors: &mut FieldErrors, field: &str, minor: i64, currency: Currency) -> Money {
    errors
        .check(field, Money::non_negative_minor(minor, currency))
        .unwrap_or_else(|| Money::zero(currency))
}

fn count(errors: &mut FieldErrors, field: &str, value: i64) -> u32 {
    match u32::try_from(value) {
        Ok(n) if n >= 1 => n,
        _ => {
            errors.push(
                field,
                format!("{value} is not a whole number of at least 1"),
            );
            1
        }
    }
}

fn instant(
    errors: &mut FieldErrors,
    field: &str,
    value: &str,
    zone: &jiff::tz::TimeZone,
) -> Timestamp {
    errors
        .check(field, parse_instant(value, zone))
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A store description.
pub fn store(request: &StoreRequest, context: &ParseContext) -> Result<Store, FieldErrors> {
    let mut errors = FieldErrors::default();
    let store_id = errors.check("store_id", StoreId::parse(&request.store_id));
    let name = text(&mut errors, "name", Some(&request.name), MAX_NAME_CHARS);
    if name.is_none() && errors.is_empty() {
        errors.push("name", "is empty");
    }
    let channel = optional(
        &mut errors,
        "channel",
        request.channel.as_ref(),
        StoreChannel::parse,
    )
    .unwrap_or(StoreChannel::Offline);
    let time_zone = optional(
        &mut errors,
        "time_zone",
        request.time_zone.as_ref(),
        Store::parse_time_zone,
    )
    .unwrap_or_else(|| context.zone.clone());
    errors.finish(|| Store {
        store_id: store_id.expect("checked"),
        name: name.expect("checked"),
        channel,
        time_zone,
        created_from_order: false,
    })
}

/// A member profile.
pub fn member(
    request: &MemberRequest,
    context: &ParseContext,
) -> Result<MemberProfile, FieldErrors> {
    let mut errors = FieldErrors::default();
    let member_id = errors.check("member_id", MemberId::parse(&request.member_id));
    let zone = &context.zone;
    let mut profile = MemberProfile::empty(
        // An invalid id is reported above; the placeholder only lets the other fields be checked.
        member_id.unwrap_or_else(|| MemberId::parse("invalid").expect("a valid placeholder id")),
    );
    profile.name = text(&mut errors, "name", request.name.as_ref(), MAX_NAME_CHARS);
    profile.phone = optional(&mut errors, "phone", request.phone.as_ref(), Phone::parse);
    profile.email = optional(&mut errors, "email", request.email.as_ref(), Email::parse);
    profile.line_user_id = optional(
        &mut errors,
        "line_user_id",
        request.line_user_id.as_ref(),
        LineUserId::parse,
    );
    profile.birthday = optional(
        &mut errors,
        "birthday",
        request.birthday.as_ref(),
        parse_date,
    );
    profile.gender = optional(
        &mut errors,
        "gender",
        request.gender.as_ref(),
        Gender::parse,
    );
    profile.region = text(
        &mut errors,
        "region",
        request.region.as_ref(),
        MAX_LABEL_CHARS,
    );
    profile.joined_at = optional(&mut errors, "joined_at", request.joined_at.as_ref(), |v| {
        parse_instant(v, zone)
    });
    profile.home_store = optional(
        &mut errors,
        "home_store_id",
        request.home_store_id.as_ref(),
        StoreId::parse,
    );
    profile.referrer = optional(
        &mut errors,
        "referrer_id",
        request.referrer_id.as_ref(),
        MemberId::parse,
    );
    for (idx, consent) in request.consents.iter().enumerate() {
        let field = |name: &str| format!("consents[{idx}].{name}");
        let Some(channel) =
            errors.check(&field("channel"), ConsentChannel::parse(&consent.channel))
        else {
            continue;
        };
        if profile.consent(channel).is_some() {
            errors.push(
                field("channel"),
                format!("{} appears twice", channel.as_str()),
            );
            continue;
        }
        let at = optional(&mut errors, &field("at"), consent.at.as_ref(), |v| {
            parse_instant(v, zone)
        });
        let source = text(
            &mut errors,
            &field("source"),
            consent.source.as_ref(),
            MAX_LABEL_CHARS,
        );
        profile.set_consent(Consent {
            channel,
            granted: consent.granted,
            at,
            source,
        });
    }
    errors.finish(|| profile)
}

/// A line, its fields named as they are in a line (the caller prefixes them where it nests).
fn line(
    errors: &mut FieldErrors,
    request: &OrderLineRequest,
    default_line_no: u32,
    currency: Currency,
) -> OrderLine {
    let line_no = match request.line_no {
        None => default_line_no,
        Some(n) => count(errors, "line_no", n),
    };
    OrderLine {
        line_no,
        sku: errors
            .check("sku", Sku::parse(&request.sku))
            .unwrap_or_else(|| Sku::parse("invalid").expect("valid")),
        name: text(errors, "name", request.name.as_ref(), MAX_NAME_CHARS),
        category: text(
            errors,
            "category",
            request.category.as_ref(),
            MAX_LABEL_CHARS,
        ),
        quantity: count(errors, "quantity", request.quantity),
        unit_price: non_negative(errors, "unit_price", request.unit_price, currency),
    }
}

/// An order (with its lines, if any).
pub fn order(request: &OrderRequest, context: &ParseContext) -> Result<Order, FieldErrors> {
    let mut errors = FieldErrors::default();
    let order_id = errors.check("order_id", OrderId::parse(&request.order_id));
    let member_id = errors.check("member_id", MemberId::parse(&request.member_id));
    let store_id = optional(
        &mut errors,
        "store_id",
        request.store_id.as_ref(),
        StoreId::parse,
    );
    let zone = context.zone_for(request.store_id.as_deref());
    let placed_at = instant(&mut errors, "placed_at", &request.placed_at, zone);
    let status = optional(
        &mut errors,
        "status",
        request.status.as_ref(),
        OrderStatus::parse,
    )
    .unwrap_or(OrderStatus::Paid);
    let status_at = optional(&mut errors, "status_at", request.status_at.as_ref(), |v| {
        parse_instant(v, zone)
    });
    let currency = currency(&mut errors, request.currency.as_ref(), context);
    let amount = non_negative(&mut errors, "amount", request.amount, currency);
    let discount = non_negative(
        &mut errors,
        "discount",
        request.discount.unwrap_or(0),
        currency,
    );
    let shipping = non_negative(
        &mut errors,
        "shipping",
        request.shipping.unwrap_or(0),
        currency,
    );
    let mut coupon_codes = Vec::new();
    for (idx, code) in request.coupon_codes.iter().enumerate() {
        let mut refused = FieldErrors::default();
        if let Some(code) = text(&mut refused, "", Some(code), MAX_LABEL_CHARS) {
            coupon_codes.push(code);
        }
        errors.extend_prefixed(format_args!("coupon_codes[{idx}]"), refused);
    }
    let lines: Vec<OrderLine> = request
        .lines
        .iter()
        .enumerate()
        .map(|(idx, l)| {
            let mut refused = FieldErrors::default();
            let line = line(&mut refused, l, idx as u32 + 1, currency);
            errors.extend_prefixed(format_args!("lines[{idx}]."), refused);
            line
        })
        .collect();
    let (Some(order_id), Some(member_id), true) = (order_id, member_id, errors.is_empty()) else {
        return Err(errors);
    };
    let order = Order {
        order_id,
        member_id,
        store_id,
        placed_at,
        status,
        status_at,
        amount,
        discount,
        shipping,
        coupon_codes,
        lines,
    };
    for (field, reason) in order.cross_field_errors() {
        errors.push(field, reason);
    }
    errors.finish(|| order)
}

/// An order line sent apart from its order, priced in `currency`.
pub fn order_line(
    request: &OrderLineImportRequest,
    default_line_no: u32,
    currency: Currency,
) -> Result<(OrderId, OrderLine), FieldErrors> {
    let mut errors = FieldErrors::default();
    let order_id = errors.check("order_id", OrderId::parse(&request.order_id));
    let line = line(&mut errors, &request.line, default_line_no, currency);
    errors.finish(|| (order_id.expect("checked"), line))
}

/// A return.
pub fn return_(request: &ReturnRequest, context: &ParseContext) -> Result<NewReturn, FieldErrors> {
    let mut errors = FieldErrors::default();
    let return_id = errors.check("return_id", ReturnId::parse(&request.return_id));
    let order_id = errors.check("order_id", OrderId::parse(&request.order_id));
    let currency = currency(&mut errors, request.currency.as_ref(), context);
    let amount = non_negative(&mut errors, "amount", request.amount, currency);
    let completed_at = instant(
        &mut errors,
        "completed_at",
        &request.completed_at,
        &context.zone,
    );
    let lines = request
        .lines
        .iter()
        .enumerate()
        .map(|(idx, l)| {
            let mut refused = FieldErrors::default();
            let line = ReturnLine {
                sku: refused
                    .check("sku", Sku::parse(&l.sku))
                    .unwrap_or_else(|| Sku::parse("invalid").expect("valid")),
                quantity: count(&mut refused, "quantity", l.quantity),
            };
            errors.extend_prefixed(format_args!("lines[{idx}]."), refused);
            line
        })
        .collect();
    errors.finish(|| NewReturn {
        return_id: return_id.expect("checked"),
        order_id: order_id.expect("checked"),
        amount,
        completed_at,
        lines,
    })
}

/// An interaction; its id is derived from its content when the request has none.
pub fn interaction(
    request: &InteractionRequest,
    context: &ParseContext,
) -> Result<Interaction, FieldErrors> {
    let mut errors = FieldErrors::default();
    let member_id = errors.check("member_id", MemberId::parse(&request.member_id));
    let at = instant(&mut errors, "at", &request.at, &context.zone);
    let channel = errors.check("channel", InteractionChannel::parse(&request.channel));
    let kind = errors.check("kind", InteractionKind::parse(&request.kind));
    let interaction_id = match &request.interaction_id {
        Some(id) if !id.trim().is_empty() => {
            errors.check("interaction_id", InteractionId::parse(id))
        }
        _ => match (&member_id, channel, kind) {
            (Some(member), Some(channel), Some(kind)) => InteractionId::parse(&derived_id(
                "i_",
                &[
                    member.as_str(),
                    &at.to_string(),
                    channel.as_str(),
                    kind.as_str(),
                ],
            ))
            .ok(),
            _ => None,
        },
    };
    errors.finish(|| Interaction {
        interaction_id: interaction_id.expect("checked"),
        member_id: member_id.expect("checked"),
        at,
        channel: channel.expect("checked"),
        kind: kind.expect("checked"),
    })
}

/// A behaviour event; its id is derived from its content when the request has none.
pub fn event(
    request: &EventRequest,
    context: &ParseContext,
) -> Result<BehaviourEvent, FieldErrors> {
    let mut errors = FieldErrors::default();
    let member_id = errors.check("member_id", MemberId::parse(&request.member_id));
    let at = instant(&mut errors, "at", &request.at, &context.zone);
    let kind = errors.check("kind", EventKind::parse(&request.kind));
    let sku = optional(&mut errors, "sku", request.sku.as_ref(), Sku::parse);
    let category = text(
        &mut errors,
        "category",
        request.category.as_ref(),
        MAX_LABEL_CHARS,
    );
    let query = text(
        &mut errors,
        "query",
        request.query.as_ref(),
        MAX_QUERY_CHARS,
    );
    let event_id = match &request.event_id {
        Some(id) if !id.trim().is_empty() => errors.check("event_id", EventId::parse(id)),
        _ => match (&member_id, kind) {
            (Some(member), Some(kind)) => EventId::parse(&derived_id(
                "e_",
                &[
                    member.as_str(),
                    &at.to_string(),
                    kind.as_str(),
                    sku.as_ref().map_or("", Sku::as_str),
                    category.as_deref().unwrap_or(""),
                    query.as_deref().unwrap_or(""),
                ],
            ))
            .ok(),
            _ => None,
        },
    };
    if errors.is_empty() {
        let event = BehaviourEvent {
            event_id: event_id.clone().expect("checked"),
            member_id: member_id.clone().expect("checked"),
            at,
            kind: kind.expect("checked"),
            sku: sku.clone(),
            category: category.clone(),
            query: query.clone(),
        };
        if let Some((field, reason)) = event.missing_subject() {
            errors.push(field, reason);
        }
    }
    errors.finish(|| BehaviourEvent {
        event_id: event_id.expect("checked"),
        member_id: member_id.expect("checked"),
        at,
        kind: kind.expect("checked"),
        sku,
        category,
        query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> ParseContext {
        ParseContext::new(
            jiff::tz::TimeZone::get("Asia/Taipei").unwrap(),
            Currency::TWD,
        )
    }

    fn order_request() -> OrderRequest {
        OrderRequest {
            order_id: "O1".into(),
            member_id: "M1".into(),
            store_id: None,
            placed_at: "2024-03-01 09:30".into(),
            status: None,
            status_at: None,
            currency: None,
            amount: 12_000,
            discount: None,
            shipping: None,
            coupon_codes: vec![],
            lines: vec![],
        }
    }

    #[test]
    fn an_order_gets_the_brand_defaults() {
        let order = order(&order_request(), &context()).unwrap();
        assert_eq!(order.status, OrderStatus::Paid);
        assert_eq!(order.amount, Money::from_minor(12_000, Currency::TWD));
        assert_eq!(
            order.placed_at,
            "2024-03-01T01:30:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn every_bad_field_of_an_order_is_named_at_once() {
        let mut request = order_request();
        request.placed_at = "someday".into();
        request.amount = -5;
        request.lines.push(OrderLineRequest {
            line_no: None,
            sku: "LATTE".into(),
            name: None,
            category: None,
            quantity: -1,
            unit_price: 100,
        });
        request.lines.push(OrderLineRequest {
            line_no: Some(0),
            sku: String::new(),
            name: None,
            category: None,
            quantity: 1,
            unit_price: 100,
        });
        request.coupon_codes = vec!["WELCOME".into(), "X".repeat(MAX_LABEL_CHARS + 1)];
        let errors = order(&request, &context()).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "placed_at",
                "amount",
                "coupon_codes[1]",
                "lines[0].quantity",
                "lines[1].line_no",
                "lines[1].sku"
            ]
        );
    }

    #[test]
    fn interactions_without_an_id_get_the_same_id_every_time() {
        let request = InteractionRequest {
            interaction_id: None,
            member_id: "M1".into(),
            at: "2024-03-01T09:30:00+08:00".into(),
            channel: "line".into(),
            kind: "message".into(),
        };
        let a = interaction(&request, &context()).unwrap();
        let b = interaction(&request, &context()).unwrap();
        assert_eq!(a.interaction_id, b.interaction_id);
        assert!(a.interaction_id.as_str().starts_with("i_"));
    }

    #[test]
    fn a_search_needs_its_query() {
        let request = EventRequest {
            event_id: None,
            member_id: "M1".into(),
            at: "2024-03-01".into(),
            kind: "search".into(),
            sku: None,
            category: None,
            query: None,
        };
        let errors = event(&request, &context()).unwrap_err();
        assert_eq!(errors.0[0].field, "query");
    }
}
