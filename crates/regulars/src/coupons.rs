//! `regulars coupons …`: templates (saved from the API's JSON form, shown with their figures),
//! pool codes, issuing (to a member, an audience, or for points), a member's coupons, checking
//! coupons against a basket, redeeming and voiding. Issues and redemptions run under an
//! idempotency key, so the same command run again, from any number of processes, acts once.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use regulars_api_types::{BasketJson, CouponTemplateRequest};
use regulars_domain::{CouponTemplate, MemberId, OrderId};
use regulars_formats::coupons::{basket_from_json, template_from_request, template_to_request};
use regulars_server::app::{App, Coupon, CouponIssue, CouponStats};

#[derive(Debug, Args)]
pub struct CouponsArgs {
    #[command(subcommand)]
    command: CouponsCommand,
}

#[derive(Debug, Subcommand)]
enum CouponsCommand {
    /// Saves a template from a JSON file (the API's `CouponTemplateRequest`), or shows it with
    /// its figures when no file is given.
    Template {
        /// The template's name (a-z, 0-9, - and _).
        name: String,
        /// The template as JSON.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Every template with its figures.
    Templates,
    /// Adds imported codes, one a line, to a pool template.
    Codes {
        /// The template.
        name: String,
        /// A text file of codes.
        #[arg(long)]
        file: PathBuf,
    },
    /// Issues a coupon to a member, or one to each member of a saved audience.
    Issue {
        /// The template.
        template: String,
        /// The member.
        #[arg(
            long,
            conflicts_with = "audience",
            required_unless_present = "audience"
        )]
        member: Option<String>,
        /// A saved audience.
        #[arg(long)]
        audience: Option<String>,
        /// Pay the template's points cost from the member's points.
        #[arg(long, requires = "member")]
        with_points: bool,
        /// The idempotency key: the same key again issues nothing (default: a new key per run).
        #[arg(long = "idempotency-key", value_name = "KEY")]
        key: Option<String>,
        /// What issued it.
        #[arg(long, default_value = "operator:cli")]
        cause: String,
    },
    /// A member's coupons, newest first.
    List {
        /// The member.
        member: String,
    },
    /// What a member's coupons, used together, take off a basket (a JSON file in the API's
    /// `BasketJson` form); nothing is used.
    Validate {
        /// The member.
        member: String,
        /// The codes, in the order they are used.
        #[arg(required = true)]
        codes: Vec<String>,
        /// The basket as JSON.
        #[arg(long)]
        basket: PathBuf,
    },
    /// Redeems coupons against an order, once; several together are all used or none is, each
    /// taking off what it gives the basket after the ones before it.
    Redeem {
        /// The codes, in the order they apply.
        #[arg(required = true, num_args = 1..)]
        codes: Vec<String>,
        /// The member presenting it.
        #[arg(long)]
        member: String,
        /// The order it is used on.
        #[arg(long)]
        order: String,
        /// The order's basket as JSON.
        #[arg(long)]
        basket: PathBuf,
        /// The idempotency key (default: `ORDER`; each coupon is redeemed under `KEY/CODE`, so
        /// one order uses a coupon once).
        #[arg(long = "idempotency-key", value_name = "KEY")]
        key: Option<String>,
    },
    /// Voids an active coupon.
    Void {
        /// The code.
        code: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

fn member_id(text: &str) -> anyhow::Result<MemberId> {
    MemberId::parse(text).map_err(|reason| anyhow::anyhow!("member: {reason}"))
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn invalid_json(path: &Path) -> impl FnOnce(serde_json::Error) -> anyhow::Error + '_ {
    move |e| anyhow::anyhow!("{} is not valid: {e}", path.display())
}

fn field_errors(path: &Path, errors: &regulars_domain::FieldErrors) -> anyhow::Error {
    let lines: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
    anyhow::anyhow!("{}:\n  {}", path.display(), lines.join("\n  "))
}

fn basket(app: &App, path: &Path) -> anyhow::Result<regulars_domain::Basket> {
    let json: BasketJson = serde_json::from_str(&read_text(path)?).map_err(invalid_json(path))?;
    basket_from_json(&json, app.brand().currency).map_err(|e| field_errors(path, &e))
}

fn template_json(template: &CouponTemplate, stats: &CouponStats) -> serde_json::Value {
    serde_json::json!({
        "name": template.name.as_str(),
        "template": template_to_request(template),
        "issued": stats.issued,
        "redeemed": stats.redeemed,
        "voided": stats.voided,
        "discount": stats.discount,
        "revenue": stats.revenue,
        "pool_left": stats.pool_left,
    })
}

fn template_line(template: &CouponTemplate, stats: &CouponStats) -> String {
    #[allow(clippy::cast_precision_loss)]
    let rate = if stats.issued == 0 {
        0.0
    } else {
        100.0 * stats.redeemed as f64 / stats.issued as f64
    };
    format!(
        "{}\t{}\t{}\tissued {}, redeemed {} ({rate:.1}%), voided {}, discount {}, revenue {}",
        template.name,
        template.offer.kind(),
        template.title,
        stats.issued,
        stats.redeemed,
        stats.voided,
        stats.discount,
        stats.revenue
    )
}

fn coupon_json(coupon: &Coupon, today: jiff::civil::Date) -> serde_json::Value {
    serde_json::json!({
        "code": coupon.code.as_str(),
        "template": coupon.template.as_str(),
        "member_id": coupon.member_id.as_str(),
        "state": coupon.state_on(today),
        "valid_from": coupon.valid_from.to_string(),
        "valid_until": coupon.valid_until.to_string(),
        "credit": coupon.credit,
        "idempotency_key": coupon.issue_key,
        "points_key": coupon.points_key,
    })
}

fn coupon_line(coupon: &Coupon, today: jiff::civil::Date) -> String {
    format!(
        "{}\t{}\t{}\t{} to {}{}",
        coupon.code,
        coupon.template,
        coupon.state_on(today),
        coupon.valid_from,
        coupon.valid_until,
        if coupon.credit > 0 {
            format!("\t{} credit left", coupon.credit)
        } else {
            String::new()
        }
    )
}

pub async fn run(app: &App, args: &CouponsArgs, json: bool) -> anyhow::Result<ExitCode> {
    let today = app.today();
    match &args.command {
        CouponsCommand::Template { name, file } => {
            if let Some(file) = file {
                let request: CouponTemplateRequest =
                    serde_json::from_str(&read_text(file)?).map_err(invalid_json(file))?;
                let template = template_from_request(name, &request, app.brand().currency)
                    .map_err(|e| field_errors(file, &e))?;
                app.save_coupon_template(template).await?;
            }
            let (template, stats) = app.coupon_template(name).await?;
            if json {
                println!("{}", template_json(&template, &stats));
            } else {
                println!("{}", template_line(&template, &stats));
            }
        }
        CouponsCommand::Templates => {
            let templates = app.coupon_templates().await?;
            if json {
                let all: Vec<_> = templates.iter().map(|(t, s)| template_json(t, s)).collect();
                println!("{}", serde_json::Value::Array(all));
            } else {
                for (template, stats) in &templates {
                    println!("{}", template_line(template, stats));
                }
            }
        }
        CouponsCommand::Codes { name, file } => {
            let text = read_text(file)?;
            let codes: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            let added = app.add_coupon_codes(name, &codes).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"added": added, "read": codes.len()})
                );
            } else {
                println!("{added} of {} codes added to {name}", codes.len());
            }
        }
        CouponsCommand::Issue {
            template,
            member,
            audience,
            with_points,
            key,
            cause,
        } => {
            let key = key.clone().unwrap_or_else(|| {
                format!("cli-{}-{}", app.now().as_microsecond(), std::process::id())
            });
            if let Some(audience) = audience {
                let bulk = app
                    .issue_coupons_to_audience(template, audience, &key, cause)
                    .await?;
                if json {
                    let refused: Vec<_> = bulk
                        .refused
                        .iter()
                        .map(|(m, r)| serde_json::json!({"member_id": m.as_str(), "reason": r}))
                        .collect();
                    println!(
                        "{}",
                        serde_json::json!({"issued": bulk.issued, "replayed": bulk.replayed, "refused": refused})
                    );
                } else {
                    println!(
                        "{} issued, {} had one from this key, {} refused",
                        bulk.issued,
                        bulk.replayed,
                        bulk.refused.len()
                    );
                    for (member, reason) in &bulk.refused {
                        eprintln!("{member}: {reason}");
                    }
                }
            } else if let Some(member) = member {
                let issued = app
                    .issue_coupon(CouponIssue {
                        template: template.clone(),
                        member_id: member_id(member)?,
                        key,
                        cause: cause.clone(),
                        with_points: *with_points,
                    })
                    .await?;
                if json {
                    let mut value = coupon_json(&issued.coupon, today);
                    value["replayed"] = issued.replayed.into();
                    println!("{value}");
                } else {
                    println!(
                        "{}{}",
                        if issued.replayed {
                            "already issued under this key: "
                        } else {
                            ""
                        },
                        coupon_line(&issued.coupon, today)
                    );
                }
            }
        }
        CouponsCommand::List { member } => {
            let coupons = app.member_coupons(&member_id(member)?).await?;
            if json {
                let all: Vec<_> = coupons.iter().map(|c| coupon_json(c, today)).collect();
                println!("{}", serde_json::Value::Array(all));
            } else {
                for coupon in &coupons {
                    println!("{}", coupon_line(coupon, today));
                }
            }
        }
        CouponsCommand::Validate {
            member,
            codes,
            basket: path,
        } => {
            let basket = basket(app, path)?;
            let checks = app
                .check_coupons(&member_id(member)?, codes, &basket)
                .await?;
            let mut applies = false;
            if json {
                let all: Vec<_> = checks
                    .iter()
                    .map(|c| match &c.result {
                        Ok(off) => serde_json::json!({"code": c.code, "applies": true, "items": off.items, "shipping": off.shipping}),
                        Err(reason) => serde_json::json!({"code": c.code, "applies": false, "reason": reason}),
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(all));
            }
            for check in &checks {
                match &check.result {
                    Ok(off) => {
                        applies = true;
                        if !json {
                            println!(
                                "{}\t-{} items\t-{} shipping",
                                check.code, off.items, off.shipping
                            );
                        }
                    }
                    Err(reason) if !json => println!("{}\tdoes not apply: {reason}", check.code),
                    Err(_) => {}
                }
            }
            if !applies {
                return Ok(ExitCode::from(1));
            }
        }
        CouponsCommand::Redeem {
            codes,
            member,
            order,
            basket: path,
            key,
        } => {
            let basket = basket(app, path)?;
            let order_id = OrderId::parse(order).map_err(|r| anyhow::anyhow!("order: {r}"))?;
            let key = key.clone().unwrap_or_else(|| order.clone());
            let redeemed = app
                .redeem_coupons(codes, &member_id(member)?, &order_id, &basket, &key)
                .await?;
            if json {
                let values: Vec<_> = redeemed
                    .iter()
                    .map(|redeemed| {
                        let mut value = coupon_json(&redeemed.coupon, today);
                        value["discount"] = redeemed.redemption.discount.into();
                        value["order_id"] = order.as_str().into();
                        value["replayed"] = redeemed.replayed.into();
                        value
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(values));
            } else {
                for redeemed in &redeemed {
                    println!(
                        "{}{} off order {order} with {}",
                        if redeemed.replayed {
                            "already redeemed under this key: "
                        } else {
                            ""
                        },
                        redeemed.redemption.discount,
                        redeemed.coupon.code
                    );
                }
            }
        }
        CouponsCommand::Void { code, reason } => {
            let coupon = app.void_coupon(code, reason).await?;
            if json {
                println!("{}", coupon_json(&coupon, today));
            } else {
                println!("{}", coupon_line(&coupon, today));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
