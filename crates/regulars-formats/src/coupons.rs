//! Coupons between the API's JSON and the domain: a template request to a `CouponTemplate`
//! (every broken field named, the template's own rules included) and back, and a basket.

use jiff::civil::Date;
use regulars_api_types::{
    BasketJson, CouponTemplateRequest, EligibilityJson, OfferJson, ValidityJson,
};
use regulars_domain::{
    Basket, BasketLine, CodeSource, CouponTemplate, Currency, DiscountClass, Eligibility,
    FieldErrors, Offer, Sku, StoreChannel, StoreId, TemplateName, Validity,
};

fn channel(text: &str) -> Result<StoreChannel, String> {
    match text {
        "online" => Ok(StoreChannel::Online),
        "offline" => Ok(StoreChannel::Offline),
        other => Err(format!("`{other}` is not online or offline")),
    }
}

fn required<T: Copy>(errors: &mut FieldErrors, field: &str, value: Option<T>) -> Option<T> {
    if value.is_none() {
        errors.push(field, "required for this kind");
    }
    value
}

fn offer(json: &OfferJson, errors: &mut FieldErrors) -> Option<Offer> {
    let amount = json.amount;
    let offer = match json.kind.as_str() {
        "amount_off" => Offer::AmountOff(required(errors, "offer.amount", amount)?),
        "store_credit" => Offer::StoreCredit(required(errors, "offer.amount", amount)?),
        "percent_off" => Offer::PercentOff {
            percent: required(errors, "offer.percent", json.percent)?,
            cap: json.cap,
        },
        "spend_threshold" => Offer::SpendThreshold {
            threshold: required(errors, "offer.threshold", json.threshold)?,
            off: required(errors, "offer.amount", amount)?,
            repeat: json.each,
        },
        "quantity_threshold" => Offer::QuantityThreshold {
            quantity: required(errors, "offer.quantity", json.quantity)?,
            off: required(errors, "offer.amount", amount)?,
        },
        "free_item" => {
            let Some(sku) = &json.sku else {
                errors.push("offer.sku", "required for this kind");
                return None;
            };
            Offer::FreeItem(errors.check("offer.sku", Sku::parse(sku))?)
        }
        "free_shipping" => Offer::FreeShipping { cap: json.cap },
        "buy_x_get_y" => Offer::BuyXGetY {
            buy: required(errors, "offer.buy", json.buy)?,
            get: required(errors, "offer.get", json.get)?,
            percent: required(errors, "offer.percent", json.percent)?,
        },
        other => {
            errors.push(
                "offer.kind",
                format!(
                    "`{other}` is not amount_off, percent_off, spend_threshold, \
                     quantity_threshold, free_item, free_shipping, buy_x_get_y or store_credit"
                ),
            );
            return None;
        }
    };
    errors.check("offer", offer.check()).map(|()| offer)
}

fn eligibility(json: &EligibilityJson, errors: &mut FieldErrors) -> Eligibility {
    let mut categories = Vec::new();
    for (at, category) in json.categories.iter().enumerate() {
        match regulars_domain::parse_text(category, 100) {
            Ok(Some(category)) => categories.push(category),
            Ok(None) => errors.push(format!("eligibility.categories[{at}]"), "is empty"),
            Err(reason) => errors.push(format!("eligibility.categories[{at}]"), reason),
        }
    }
    let skus = json
        .skus
        .iter()
        .enumerate()
        .filter_map(|(at, sku)| errors.check(&format!("eligibility.skus[{at}]"), Sku::parse(sku)))
        .collect();
    let stores = json
        .stores
        .iter()
        .enumerate()
        .filter_map(|(at, store)| {
            errors.check(&format!("eligibility.stores[{at}]"), StoreId::parse(store))
        })
        .collect();
    Eligibility {
        categories,
        skus,
        stores,
        channel: json
            .channel
            .as_deref()
            .and_then(|c| errors.check("eligibility.channel", channel(c))),
        min_spend: json.min_spend,
    }
}

fn day(errors: &mut FieldErrors, field: &str, text: &str) -> Option<Date> {
    errors.check(
        field,
        text.parse::<Date>()
            .map_err(|_| format!("`{text}` is not a date (YYYY-MM-DD)")),
    )
}

fn validity(json: &ValidityJson, errors: &mut FieldErrors) -> Option<Validity> {
    match (json.days, &json.from, &json.until) {
        (Some(days), None, None) => Some(Validity::Days(days)),
        (None, Some(from), Some(until)) => Some(Validity::Between {
            from: day(errors, "validity.from", from)?,
            until: day(errors, "validity.until", until)?,
        }),
        _ => {
            errors.push("validity", "give days, or from and until");
            None
        }
    }
}

/// The template `name` a request describes, in the brand's currency unless it names one; every
/// broken field, the template's own rules included, when it is not valid.
pub fn template_from_request(
    name: &str,
    request: &CouponTemplateRequest,
    brand_currency: Currency,
) -> Result<CouponTemplate, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", TemplateName::parse(name));
    let currency = match &request.currency {
        Some(code) => errors.check("currency", Currency::parse(code)),
        None => Some(brand_currency),
    };
    let offer = offer(&request.offer, &mut errors);
    let eligibility = eligibility(&request.eligibility, &mut errors);
    let validity = validity(&request.validity, &mut errors);
    let combines_with = match &request.combines_with {
        Some(classes) => classes
            .iter()
            .enumerate()
            .filter_map(|(at, c)| {
                errors.check(&format!("combines_with[{at}]"), DiscountClass::parse(c))
            })
            .collect(),
        // Store credit is a way to pay, so by default it goes with any discount.
        None if matches!(offer, Some(Offer::StoreCredit(_))) => DiscountClass::ALL.to_vec(),
        None => Vec::new(),
    };
    let codes = match request.codes.as_deref() {
        Some(codes) => errors.check("codes", CodeSource::parse(codes)),
        None => Some(CodeSource::Generated),
    };
    let (Some(name), Some(currency), Some(offer), Some(validity), Some(codes)) =
        (name, currency, offer, validity, codes)
    else {
        return Err(errors);
    };
    let template = CouponTemplate {
        name,
        title: request.title.trim().to_owned(),
        currency,
        offer,
        eligibility,
        validity,
        per_member: request.per_member,
        total: request.total,
        combines_with,
        points_cost: request.points_cost,
        codes,
    };
    for (field, reason) in template.check() {
        errors.push(field, reason);
    }
    errors.finish(|| template)
}

/// A template as the API shows it.
pub fn template_to_request(template: &CouponTemplate) -> CouponTemplateRequest {
    let mut offer = OfferJson {
        kind: template.offer.kind().to_owned(),
        ..OfferJson::default()
    };
    match &template.offer {
        Offer::AmountOff(amount) | Offer::StoreCredit(amount) => offer.amount = Some(*amount),
        Offer::PercentOff { percent, cap } => {
            offer.percent = Some(*percent);
            offer.cap = *cap;
        }
        Offer::SpendThreshold {
            threshold,
            off,
            repeat,
        } => {
            offer.threshold = Some(*threshold);
            offer.amount = Some(*off);
            offer.each = *repeat;
        }
        Offer::QuantityThreshold { quantity, off } => {
            offer.quantity = Some(*quantity);
            offer.amount = Some(*off);
        }
        Offer::FreeItem(sku) => offer.sku = Some(sku.to_string()),
        Offer::FreeShipping { cap } => offer.cap = *cap,
        Offer::BuyXGetY { buy, get, percent } => {
            offer.buy = Some(*buy);
            offer.get = Some(*get);
            offer.percent = Some(*percent);
        }
    }
    let rules = &template.eligibility;
    CouponTemplateRequest {
        title: template.title.clone(),
        currency: Some(template.currency.to_string()),
        offer,
        eligibility: EligibilityJson {
            categories: rules.categories.clone(),
            skus: rules.skus.iter().map(ToString::to_string).collect(),
            stores: rules.stores.iter().map(ToString::to_string).collect(),
            channel: rules.channel.map(|c| c.as_str().to_owned()),
            min_spend: rules.min_spend,
        },
        validity: match template.validity {
            Validity::Days(days) => ValidityJson {
                days: Some(days),
                ..ValidityJson::default()
            },
            Validity::Between { from, until } => ValidityJson {
                days: None,
                from: Some(from.to_string()),
                until: Some(until.to_string()),
            },
        },
        per_member: template.per_member,
        total: template.total,
        combines_with: Some(
            template
                .combines_with
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
        ),
        points_cost: template.points_cost,
        codes: Some(template.codes.as_str().to_owned()),
    }
}

/// A basket, in the brand's currency unless it names one; every broken field when it is not
/// valid (fields named under `basket.`).
pub fn basket_from_json(
    json: &BasketJson,
    brand_currency: Currency,
) -> Result<Basket, FieldErrors> {
    let mut errors = FieldErrors::default();
    let currency = match &json.currency {
        Some(code) => errors.check("basket.currency", Currency::parse(code)),
        None => Some(brand_currency),
    };
    let store = json
        .store_id
        .as_deref()
        .and_then(|s| errors.check("basket.store_id", StoreId::parse(s)));
    let channel = json
        .channel
        .as_deref()
        .and_then(|c| errors.check("basket.channel", channel(c)));
    let mut lines = Vec::with_capacity(json.lines.len());
    for (at, line) in json.lines.iter().enumerate() {
        let field = |name: &str| format!("basket.lines[{at}].{name}");
        let sku = errors.check(&field("sku"), Sku::parse(&line.sku));
        if line.quantity == 0 {
            errors.push(field("quantity"), "at least 1");
        }
        if line.unit_price < 0 {
            errors.push(field("unit_price"), "never negative");
        }
        let category = match line
            .category
            .as_deref()
            .map(|c| regulars_domain::parse_text(c, 100))
        {
            Some(Err(reason)) => {
                errors.push(field("category"), reason);
                None
            }
            Some(Ok(category)) => category,
            None => None,
        };
        if let Some(sku) = sku {
            lines.push(BasketLine {
                sku,
                category,
                quantity: line.quantity,
                unit_price: line.unit_price,
            });
        }
    }
    if json.shipping < 0 {
        errors.push("basket.shipping", "never negative");
    }
    let Some(currency) = currency else {
        return Err(errors);
    };
    errors.finish(|| Basket {
        currency,
        store,
        channel,
        lines,
        shipping: json.shipping,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(offer: OfferJson) -> CouponTemplateRequest {
        CouponTemplateRequest {
            title: "Birthday treat".to_owned(),
            currency: None,
            offer,
            eligibility: EligibilityJson::default(),
            validity: ValidityJson {
                days: Some(30),
                ..ValidityJson::default()
            },
            per_member: Some(1),
            total: None,
            combines_with: None,
            points_cost: None,
            codes: None,
        }
    }

    #[test]
    fn a_template_request_reads_into_the_domain_and_back_unchanged() {
        let mut spend = request(OfferJson {
            kind: "spend_threshold".to_owned(),
            threshold: Some(100_000),
            amount: Some(10_000),
            each: true,
            ..OfferJson::default()
        });
        spend.eligibility.categories = vec!["beans".to_owned()];
        spend.eligibility.channel = Some("online".to_owned());
        let template = template_from_request("spend", &spend, Currency::TWD).unwrap();
        assert_eq!(
            template.offer,
            Offer::SpendThreshold {
                threshold: 100_000,
                off: 10_000,
                repeat: true
            }
        );
        let shown = template_to_request(&template);
        assert_eq!(
            template_from_request("spend", &shown, Currency::TWD).unwrap(),
            template
        );
        let credit = request(OfferJson {
            kind: "store_credit".to_owned(),
            amount: Some(50_000),
            ..OfferJson::default()
        });
        let credit = template_from_request("credit", &credit, Currency::TWD).unwrap();
        assert_eq!(credit.combines_with, DiscountClass::ALL.to_vec());
    }

    #[test]
    fn a_broken_template_names_every_field_at_fault() {
        let mut broken = request(OfferJson {
            kind: "percent_off".to_owned(),
            percent: Some(150),
            ..OfferJson::default()
        });
        broken.validity = ValidityJson::default();
        broken.eligibility.skus = vec![String::new()];
        broken.combines_with = Some(vec!["everything".to_owned()]);
        let errors = template_from_request("Bad Name", &broken, Currency::TWD).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "offer",
                "eligibility.skus[0]",
                "validity",
                "combines_with[0]"
            ]
        );
        let missing = request(OfferJson {
            kind: "buy_x_get_y".to_owned(),
            buy: Some(2),
            ..OfferJson::default()
        });
        let errors = template_from_request("bxgy", &missing, Currency::TWD).unwrap_err();
        assert_eq!(errors.0[0].field, "offer.get");
    }

    #[test]
    fn a_basket_with_bad_lines_names_each_line() {
        let json = BasketJson {
            currency: None,
            store_id: Some("S01".to_owned()),
            channel: Some("shop".to_owned()),
            lines: vec![regulars_api_types::BasketLineJson {
                sku: "latte".to_owned(),
                category: Some("coffee".to_owned()),
                quantity: 0,
                unit_price: -1,
            }],
            shipping: 0,
        };
        let errors = basket_from_json(&json, Currency::TWD).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "basket.channel",
                "basket.lines[0].quantity",
                "basket.lines[0].unit_price"
            ]
        );
    }
}
