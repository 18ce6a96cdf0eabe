//! `regulars referrals …` and `regulars wallet`: a member's code, referring a new member with it,
//! a member's referrals, settling the open ones now; and the wallet a member's app shows.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use regulars_domain::MemberId;
use regulars_server::app::{App, Referral, ReferralRequest};

#[derive(Debug, Args)]
pub struct ReferralsArgs {
    #[command(subcommand)]
    command: ReferralsCommand,
}

#[derive(Debug, Subcommand)]
enum ReferralsCommand {
    /// A member's referral code (given now if they had none).
    Code {
        /// The member.
        member: String,
    },
    /// Refers a new member with a code; refused, with the rule it breaks, for a self-referral,
    /// a shared contact or device, a returning customer or a referrer at the cap.
    Refer {
        /// The referrer's code.
        code: String,
        /// The member referred.
        referee: String,
        /// The referee's device.
        #[arg(long)]
        device: Option<String>,
    },
    /// The referrals a member made, and the one that brought them.
    List {
        /// The member.
        member: String,
    },
    /// Settles the open referrals now, as the server does daily; rewards are granted once.
    Settle,
}

#[derive(Debug, Args)]
pub struct WalletArgs {
    /// The member.
    member: String,
}

fn member_id(text: &str) -> anyhow::Result<MemberId> {
    MemberId::parse(text).map_err(|reason| anyhow::anyhow!("member: {reason}"))
}

fn referral_json(r: &Referral) -> serde_json::Value {
    serde_json::json!({
        "referee_member_id": r.referee.as_str(), "referrer_member_id": r.referrer.as_str(),
        "code": r.code.as_str(), "status": r.status.as_str(), "note": r.note,
        "order_id": r.order_id.as_ref().map(|o| o.as_str().to_owned()),
        "referred_on": r.referred_on.to_string(),
        "settled_on": r.settled_on.map(|d| d.to_string()),
    })
}

fn referral_line(r: &Referral) -> String {
    format!(
        "{}\treferred by {}\t{}\t{}{}",
        r.referee,
        r.referrer,
        r.referred_on,
        r.status.as_str(),
        r.note
            .as_ref()
            .map_or_else(String::new, |note| format!(" ({note})"))
    )
}

pub async fn run(app: &App, args: &ReferralsArgs, json: bool) -> anyhow::Result<ExitCode> {
    match &args.command {
        ReferralsCommand::Code { member } => {
            let code = app.referral_code(&member_id(member)?).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "member_id": member, "code": code.as_str() })
                );
            } else {
                println!("{code}");
            }
        }
        ReferralsCommand::Refer {
            code,
            referee,
            device,
        } => {
            let (referral, created) = app
                .refer(ReferralRequest {
                    code: code.clone(),
                    referee: member_id(referee)?,
                    device_id: device.clone(),
                    referred_on: None,
                })
                .await?;
            if json {
                println!("{}", referral_json(&referral));
            } else {
                println!("{}", referral_line(&referral));
                if !created {
                    eprintln!("recorded before; nothing changed");
                }
            }
        }
        ReferralsCommand::List { member } => {
            let referrals = app.member_referrals(&member_id(member)?).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "member_id": member, "code": referrals.code.as_str(),
                        "referrals": referrals.made.iter().map(referral_json).collect::<Vec<_>>(),
                        "referred_by": referrals.referred_by.as_ref().map(referral_json),
                    })
                );
            } else {
                println!("code {}", referrals.code);
                for referral in &referrals.made {
                    println!("{}", referral_line(referral));
                }
                if let Some(by) = &referrals.referred_by {
                    println!("joined with {}'s code: {}", by.referrer, by.status.as_str());
                }
            }
        }
        ReferralsCommand::Settle => {
            let settled = app.settle_referrals().await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "open": settled.open, "qualified": settled.qualified,
                        "rewarded": settled.rewarded, "rejected": settled.rejected,
                    })
                );
            } else {
                println!(
                    "{} open referrals: {} qualified, {} rewarded, {} rejected",
                    settled.open, settled.qualified, settled.rewarded, settled.rejected
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn wallet(app: &App, args: &WalletArgs, json: bool) -> anyhow::Result<ExitCode> {
    let wallet = app.wallet(&member_id(&args.member)?).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&regulars_api::wallet_view(&wallet))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let points = &wallet.points;
    println!(
        "{}: {} points ({} pending, {} expiring within 30 days{})",
        wallet.member_id,
        points.available,
        points.pending,
        points.expiring_within(wallet.today, 30),
        if points.debt > 0 {
            format!(", {} owed", points.debt)
        } else {
            String::new()
        }
    );
    if let Some(tier) = &wallet.tier {
        print!("tier {}", tier.level.title);
        if let Some(until) = tier.until {
            print!(" until {until}");
        }
        if let (Some(next), Some(missing)) = (&tier.next, tier.progress.to_next) {
            print!(", {missing} more for {}", next.title);
        }
        println!();
    }
    for coupon in &wallet.coupons {
        println!(
            "coupon {}\t{}\tuntil {}",
            coupon.code, coupon.template, coupon.valid_until
        );
    }
    if let Some(code) = &wallet.referral_code {
        println!("referral code {code}");
    }
    Ok(ExitCode::SUCCESS)
}
