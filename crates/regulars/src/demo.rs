//! `regulars demo`: an embedded database with a generated coffee chain, served on localhost.

use std::process::ExitCode;

use anyhow::Context as _;
use regulars_domain::{
    ApiRole, BonusPeriod, CodeSource, CouponTemplate, DiscountClass, Eligibility, Multiplier,
    Offer, Sku, StoreChannel, TemplateName, Validity,
};
use regulars_generate::BrandSpec;
use regulars_server::app::App;
use regulars_server::app::{Clock as _, SystemClock, write_brand};
use regulars_server::{Config, Server, shutdown_signal};

use crate::cli::{DemoArgs, open_app};
use crate::import::summary_text;
use crate::output::Reporter;

/// The demo brand's loyalty programme, unless the configuration has one: beans count double,
/// merchandise half, and Wednesdays of the past year earned double points.
fn demo_loyalty(config: &Config) -> Config {
    let mut config = config.clone();
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

/// The demo brand's coupon catalogue, one template for each common offer.
fn demo_coupons(currency: regulars_domain::Currency) -> Vec<CouponTemplate> {
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
    let mut credit = template(
        "birthday-credit",
        "NT$200 birthday credit",
        Offer::StoreCredit(20_000),
        31,
    );
    credit.combines_with = DiscountClass::ALL.to_vec();
    vec![
        template(
            "welcome-50",
            "NT$50 off your next visit",
            Offer::AmountOff(5_000),
            30,
        ),
        pastry,
        latte,
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

/// Saves the catalogue and issues the welcome and birthday coupons to the presets' members
/// (each under a key per member and month, so a restart issues nothing twice).
async fn install_coupons(app: &App) -> anyhow::Result<()> {
    for template in demo_coupons(app.brand().currency) {
        app.save_coupon_template(template).await?;
    }
    let month = app.today().strftime("%Y-%m").to_string();
    for (template, audience) in [
        ("welcome-50", "new customers"),
        ("birthday-credit", "birthday this month"),
    ] {
        let key = format!("demo-{template}-{month}");
        let issued = app
            .issue_coupons_to_audience(template, audience, &key, "campaign:demo")
            .await?;
        eprintln!(
            "coupons `{template}`: {} issued to `{audience}`",
            issued.issued + issued.replayed
        );
    }
    Ok(())
}

pub async fn run(config: &Config, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let config = &demo_loyalty(config);
    let app = open_app(config).await?;
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
            "points: {} orders earned {} and returns and cancellations took back {} in {:.1}s",
            accrued.orders,
            accrued.earned,
            accrued.reversed,
            started.elapsed().as_secs_f64()
        );
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
    for saved in app.install_presets().await? {
        eprintln!(
            "audience `{}`: {} members",
            saved.summary.definition.name, saved.summary.members
        );
    }
    install_coupons(&app).await?;
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
    println!("  curl -s http://{address}/api/openapi.json");
    println!("press Ctrl-C to stop");
    server.run_until(shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}
