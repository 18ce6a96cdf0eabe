//! `regulars demo`: an embedded database with a generated coffee chain, served on localhost.

use std::process::ExitCode;

use anyhow::Context as _;
use regulars_domain::{
    ApiRole, BonusPeriod, CodeSource, CouponTemplate, DiscountClass, DowngradeMode, Eligibility,
    MemberId, Money, Multiplier, Offer, Order, OrderId, OrderStatus, ReferralRules, RenewalWindow,
    Sku, StoreChannel, TemplateName, TierBenefits, TierLevel, TierMetric, TierName, TierRules,
    Validity,
};
use regulars_generate::BrandSpec;
use regulars_server::app::{App, AppError, Preset, ReferralRequest};
use regulars_server::app::{Clock as _, SystemClock, write_brand};
use regulars_server::{Config, Server, shutdown_signal};

use crate::cli::{DemoArgs, open_app};
use crate::import::summary_text;
use crate::output::Reporter;

/// The demo brand's loyalty programme, unless the configuration has one: beans count double,
/// merchandise half, and Wednesdays of the past year earned double points; three tiers (member,
/// silver from NT$3,000 a year, gold from NT$8,000 or one NT$3,000 order) with a birthday coupon
/// each; and referrals paying 100 points to the referrer and 50 to the referee on a first order
/// of NT$150 or more, with NT$50 off that first order.
pub(crate) fn demo_loyalty(config: &Config) -> Config {
    let mut config = config.clone();
    if config.tiers.is_none() {
        config.tiers = Some(demo_tiers());
    }
    if config.referrals.is_none() {
        config.referrals = Some(ReferralRules {
            referrer_points: 100,
            referee_points: 50,
            referrer_coupon: None,
            referee_coupon: None,
            welcome_coupon: Some(TemplateName::parse("welcome-50").expect("a valid name")),
            min_order: 15_000,
            max_per_referrer: 20,
            wait_days: config.points.pending_days,
        });
    }
    if let Some(earn) = config.points.earn.as_mut()
        && earn.categories.is_empty()
        && earn.skus.is_empty()
        && earn.bonus_periods.is_empty()
    {
        let today = SystemClock
            .now()
            .to_zoned(config.brand.time_zone.clone())
            .date();
        let multiplier = |value| Multiplier::from_decimal(value).expect("a valid multiplier");
        earn.categories = vec![
            ("beans".to_owned(), multiplier(2.0)),
            ("merchandise".to_owned(), multiplier(0.5)),
        ];
        earn.bonus_periods = vec![BonusPeriod {
            name: "double points Wednesdays".to_owned(),
            from: today.saturating_sub(jiff::Span::new().days(365)),
            to: today,
            weekdays: vec![jiff::civil::Weekday::Wednesday],
            multiplier: multiplier(2.0),
        }];
    }
    config
}

/// Member, silver and gold: what a coffee chain's card programme looks like.
fn demo_tiers() -> TierRules {
    let multiplier = |value| Multiplier::from_decimal(value).expect("a valid multiplier");
    let template = |name: &str| Some(TemplateName::parse(name).expect("a valid name"));
    let level = |name: &str, title: &str, entry: i64, retain: i64| TierLevel {
        name: TierName::parse(name).expect("a valid name"),
        title: title.to_owned(),
        entry: entry * 100,
        retain: retain * 100,
        fast_upgrade: None,
        benefits: TierBenefits::default(),
    };
    let mut member = level("member", "Member 會員", 0, 0);
    member.benefits.birthday_coupon = template("birthday-50");
    let mut silver = level("silver", "Silver 銀卡", 3_000, 2_000);
    silver.benefits.multiplier = multiplier(1.25);
    silver.benefits.birthday_coupon = template("birthday-100");
    silver.benefits.entry_points = 50;
    let mut gold = level("gold", "Gold 金卡", 8_000, 5_000);
    gold.fast_upgrade = Some(300_000);
    gold.benefits.multiplier = multiplier(1.5);
    gold.benefits.birthday_coupon = template("birthday-credit");
    gold.benefits.free_shipping = true;
    gold.benefits.entry_coupon = template("free-shipping");
    TierRules::new(
        vec![member, silver, gold],
        TierMetric::Spend,
        365,
        Some(12),
        RenewalWindow::Term,
        false,
        DowngradeMode::ToQualifying,
        14,
        true,
    )
    .expect("a valid ladder")
}

/// The demo brand's coupon catalogue, one template for each common offer.
pub(crate) fn demo_coupons(currency: regulars_domain::Currency) -> Vec<CouponTemplate> {
    let template = |name: &str, title: &str, offer: Offer, days: u32| CouponTemplate {
        name: TemplateName::parse(name).expect("a valid name"),
        title: title.to_owned(),
        currency,
        offer,
        eligibility: Eligibility::default(),
        validity: Validity::Days(days),
        per_member: Some(1),
        total: None,
        combines_with: vec![DiscountClass::Shipping],
        points_cost: None,
        codes: CodeSource::Generated,
    };
    let mut pastry = template(
        "pastry-every-300",
        "NT$30 off every NT$300 of pastry",
        Offer::SpendThreshold {
            threshold: 30_000,
            off: 3_000,
            repeat: true,
        },
        30,
    );
    pastry.eligibility.categories = vec!["pastry".to_owned()];
    let mut latte = template(
        "free-latte",
        "A latte on us",
        Offer::FreeItem(Sku::parse("CF-LAT").expect("a valid sku")),
        30,
    );
    latte.points_cost = Some(150);
    latte.per_member = None;
    let mut shipping = template(
        "free-shipping",
        "Free shipping online",
        Offer::FreeShipping { cap: None },
        60,
    );
    shipping.eligibility.channel = Some(StoreChannel::Online);
    shipping.combines_with = DiscountClass::ALL.to_vec();
    let birthday = |name: &str, title: &str, amount| {
        let mut coupon = template(name, title, Offer::AmountOff(amount), 31);
        coupon.per_member = None;
        coupon
    };
    let mut credit = template(
        "birthday-credit",
        "NT$200 birthday credit",
        Offer::StoreCredit(20_000),
        31,
    );
    credit.combines_with = DiscountClass::ALL.to_vec();
    credit.per_member = None;
    vec![
        template(
            "welcome-50",
            "NT$50 off your next visit",
            Offer::AmountOff(5_000),
            30,
        ),
        pastry,
        latte,
        birthday("birthday-50", "NT$50 off in your birthday month", 5_000),
        birthday("birthday-100", "NT$100 off in your birthday month", 10_000),
        shipping,
        credit,
        template(
            "beans-2-get-1",
            "Buy two bags of beans, the third is free",
            Offer::BuyXGetY {
                buy: 2,
                get: 1,
                percent: 100,
            },
            45,
        ),
    ]
}

/// Referral history: members who have never ordered were referred by members who have, a third
/// of them then placed a first order three weeks ago (rewarded once settled), a third a few days
/// ago (waiting out the return window), and the rest have not ordered yet. Each fact has a fixed
/// id, so a restart records nothing twice.
async fn install_referrals(app: &App, members: u32) -> anyhow::Result<()> {
    let ids: Vec<MemberId> = (1..=members.min(2_000))
        .filter_map(|i| MemberId::parse(&format!("M{i:07}")).ok())
        .collect();
    let with_orders: std::collections::BTreeSet<MemberId> = app
        .store()
        .member_order_ids(&ids)
        .await?
        .into_iter()
        .map(|(member, _)| member)
        .collect();
    let referrers: Vec<&MemberId> = ids
        .iter()
        .filter(|id| with_orders.contains(id))
        .take(25)
        .collect();
    let prospects: Vec<&MemberId> = ids
        .iter()
        .filter(|id| !with_orders.contains(id))
        .take(150)
        .collect();
    if referrers.is_empty() {
        return Ok(());
    }
    let today = app.today();
    let mut first_orders = Vec::new();
    for (i, referee) in prospects.iter().enumerate() {
        let code = app.referral_code(referrers[i % referrers.len()]).await?;
        let request = ReferralRequest {
            code: code.to_string(),
            referee: (*referee).clone(),
            device_id: Some(format!("demo-device-{referee}")),
            referred_on: today.checked_sub(jiff::Span::new().days(30)).ok(),
        };
        match app.refer(request).await {
            Ok(_) => {}
            // A profile shared with the referrer, or a first order already placed.
            Err(AppError::ReferralRefused(_)) => continue,
            Err(other) => return Err(other.into()),
        }
        let days_ago = match i % 3 {
            0 => 21,
            1 => 3,
            _ => continue,
        };
        let placed_at = today
            .checked_sub(jiff::Span::new().days(days_ago))?
            .to_zoned(app.brand().time_zone.clone())?
            .timestamp()
            .checked_add(jiff::SignedDuration::from_hours(10))?;
        first_orders.push(Order {
            order_id: OrderId::parse(&format!("REF-{referee}")).map_err(anyhow::Error::msg)?,
            member_id: (*referee).clone(),
            store_id: None,
            placed_at,
            status: OrderStatus::Paid,
            status_at: Some(placed_at),
            amount: Money::from_minor(32_000 + 1_000 * (i as i64 % 7), app.brand().currency),
            discount: Money::from_minor(0, app.brand().currency),
            shipping: Money::from_minor(0, app.brand().currency),
            coupon_codes: Vec::new(),
            lines: Vec::new(),
        });
    }
    app.ingest(&first_orders, Some(false)).await?;
    app.accrue_points().await?;
    let settled = app.settle_referrals().await?;
    eprintln!(
        "referrals: {} open, {} rewarded, {} waiting out the return window",
        settled.open, settled.rewarded, settled.qualified
    );
    Ok(())
}

/// Issues the welcome coupon to the new customers (under a key per member and month) and the
/// tiers' birthday coupons (once per member and year), so a restart issues nothing twice.
async fn issue_coupons(app: &App) -> anyhow::Result<()> {
    let month = app.today().strftime("%Y-%m").to_string();
    let (template, audience) = ("welcome-50", "new customers");
    let key = format!("demo-{template}-{month}");
    let issued = app
        .issue_coupons_to_audience(template, audience, &key, "campaign:demo")
        .await?;
    eprintln!(
        "coupons `{template}`: {} issued to `{audience}`",
        issued.issued + issued.replayed
    );
    let birthdays = app.issue_birthday_coupons().await?;
    eprintln!(
        "birthday coupons by tier: {} issued to members born this month",
        birthdays.issued + birthdays.replayed
    );
    Ok(())
}

/// Audiences a brand writes over its loyalty programme, beside the presets: saved (when not saved
/// yet) once the coupons are out, so they start with members.
const LOYALTY_AUDIENCES: &[Preset] = &[
    Preset {
        name: "gold birthdays next month on line",
        description: "Gold members whose birthday is next month and who consented to LINE.",
        rule: "tier = gold and months_to_birthday = 1 and consent(line)",
    },
    Preset {
        name: "points expiring soon",
        description: "Hold 100 points or more that expire within 30 days.",
        rule: "points_expiring(within = 30d) >= 100",
    },
    Preset {
        name: "welcome coupon unused",
        description: "Hold the welcome coupon and have not ordered in the last 14 days.",
        rule: "unused_coupons(template = \"welcome-50\") >= 1 and orders(within = 14d) = 0",
    },
];

fn report_audiences(saved: &[regulars_server::app::SavedOutcome]) {
    for saved in saved {
        eprintln!(
            "audience `{}`: {} members",
            saved.summary.definition.name, saved.summary.members
        );
    }
}

pub async fn run(config: &Config, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let config = &demo_loyalty(config);
    let app = open_app(config).await?;
    // The catalogue first: tiers reached on the last day of history give entry coupons.
    for template in demo_coupons(app.brand().currency) {
        app.save_coupon_template(template).await?;
    }
    let counts = app.fact_counts().await?;
    if counts.orders == 0 {
        let brand_dir = args.data_dir.join("brand");
        // History runs through yesterday, so no generated fact lies in the future.
        let end = app.today().yesterday().context("the calendar ends here")?;
        let spec = BrandSpec {
            members: args.members,
            seed: args.seed,
            end,
            zone: config.brand.time_zone.clone(),
        };
        eprintln!(
            "generating a coffee chain with {} members in {} …",
            args.members,
            brand_dir.display()
        );
        let dir = brand_dir.clone();
        tokio::task::spawn_blocking(move || write_brand(&spec, &dir))
            .await
            .context("the generator failed")?
            .with_context(|| format!("writing {}", brand_dir.display()))?;
        let mut reporter = Reporter::new("importing", args.data_dir.join("import-errors.csv"));
        let summaries = app.import_directory(&brand_dir, &mut reporter).await;
        reporter.finish()?;
        for summary in summaries? {
            eprintln!("{}", summary_text(&summary));
        }
        let started = std::time::Instant::now();
        let accrued = app.accrue_points().await?;
        eprintln!(
            "points: {} orders earned {} and returns and cancellations took back {}, with {} tier changes, in {:.1}s",
            accrued.orders,
            accrued.earned,
            accrued.reversed,
            accrued.tier_changes,
            started.elapsed().as_secs_f64()
        );
        install_referrals(&app, args.members).await?;
    } else {
        eprintln!(
            "using the demo data already in {} ({} members, {} orders); delete the folder to start over",
            args.data_dir.display(),
            counts.members,
            counts.orders
        );
    }
    let (token, _) = app
        .create_api_key(ApiRole::Admin, Some("demo".to_owned()))
        .await?;
    // The preset audiences, live from the start (install_presets starts the segments).
    report_audiences(&app.install_presets().await?);
    issue_coupons(&app).await?;
    report_audiences(&app.install_audiences(LOYALTY_AUDIENCES).await?);
    for (level, members) in app.tier_counts().await? {
        eprintln!("tier `{}`: {members} members", level.name);
    }
    let server = Server::with_app(config, app).await?;
    let address = server.local_addr();
    println!("listening on http://{address}");
    println!("admin api key: {token}");
    println!();
    println!("try:");
    println!("  curl -s http://{address}/api/v1/stats -H 'Authorization: Bearer {token}'");
    println!(
        "  curl -s http://{address}/api/v1/members/M0000001 -H 'Authorization: Bearer {token}'"
    );
    println!("  curl -s http://{address}/api/v1/segments/nesl -H 'Authorization: Bearer {token}'");
    println!(
        "  curl -s http://{address}/api/v1/members/M0000001/segments -H 'Authorization: Bearer {token}'"
    );
    println!("  curl -s http://{address}/api/v1/audiences -H 'Authorization: Bearer {token}'");
    println!(
        "  curl -s http://{address}/api/v1/coupon-templates -H 'Authorization: Bearer {token}'"
    );
    println!("  curl -s http://{address}/api/v1/tiers -H 'Authorization: Bearer {token}'");
    println!(
        "  curl -s http://{address}/api/v1/members/M0000001/tier -H 'Authorization: Bearer {token}'"
    );
    println!(
        "  curl -s http://{address}/api/v1/members/M0000001/wallet -H 'Authorization: Bearer {token}'"
    );
    println!(
        "  curl -s 'http://{address}/api/v1/points/expiring?within_days=30' -H 'Authorization: Bearer {token}'"
    );
    println!("  curl -s http://{address}/api/openapi.json");
    println!("press Ctrl-C to stop");
    server.run_until(shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::LOYALTY_AUDIENCES;

    #[test]
    fn every_loyalty_audience_parses_and_prints_as_written() {
        for audience in LOYALTY_AUDIENCES {
            let rule = regulars_domain::audience::parse_rule(audience.rule).expect(audience.name);
            assert_eq!(rule.to_string(), audience.rule, "{}", audience.name);
        }
    }
}
