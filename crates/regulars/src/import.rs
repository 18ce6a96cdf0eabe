//! `regulars import` and `regulars generate`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use regulars_generate::BrandSpec;
use regulars_server::Config;
use regulars_server::app::{
    App, Clock as _, ImportOptions, ImportSummary, SystemClock, write_brand,
};

use crate::cli::{GenerateArgs, ImportArgs};
use crate::output::Reporter;

/// The exit status of an import that refused rows.
const SOME_REJECTED: u8 = 3;

pub fn summary_json(summary: &ImportSummary) -> serde_json::Value {
    serde_json::json!({
        "file": summary.file,
        "kind": summary.kind.as_str(),
        "rows": summary.rows,
        "accepted": summary.counts.created + summary.counts.updated,
        "created": summary.counts.created,
        "updated": summary.counts.updated,
        "duplicates": summary.counts.duplicates,
        "rejected": summary.counts.rejected,
        "ignored_columns": summary.ignored_columns,
        "seconds": summary.elapsed.as_secs_f64(),
    })
}

pub fn summary_text(summary: &ImportSummary) -> String {
    let c = &summary.counts;
    let mut text = format!(
        "{} ({}): {} rows in {:.1}s: {} accepted ({} new, {} updated), {} duplicates, {} rejected",
        summary.file,
        summary.kind.as_str(),
        summary.rows,
        summary.elapsed.as_secs_f64(),
        c.created + c.updated,
        c.created,
        c.updated,
        c.duplicates,
        c.rejected
    );
    if !summary.ignored_columns.is_empty() {
        text.push_str(&format!(
            "\n  ignored unknown columns: {}",
            summary.ignored_columns.join(", ")
        ));
    }
    text
}

pub async fn run(app: &App, args: &ImportArgs, json: bool) -> anyhow::Result<ExitCode> {
    let errors_path = args.errors.clone().unwrap_or_else(|| {
        let mut name = args.file.clone().into_os_string();
        name.push(".errors.csv");
        PathBuf::from(name)
    });
    let mut options = ImportOptions::new(args.kind.into(), args.format.into());
    options.strict = args.strict.then_some(true);
    options.batch_size = args.batch_size.max(1);
    let mut reporter = Reporter::new(format!("importing {}", args.file.display()), errors_path);
    let result = app.import_file(&args.file, &options, &mut reporter).await;
    reporter.finish().context("writing the errors file")?;
    let summary = result?;
    // Orders and returns earn or take back points now, as the server would.
    let accrued = app.accrue_points().await?;
    if json {
        let mut value = summary_json(&summary);
        value["errors_file"] =
            serde_json::json!(reporter.errors_path().map(|p| p.display().to_string()));
        value["points"] = serde_json::json!({
            "orders": accrued.orders,
            "earned": accrued.earned,
            "reversed": accrued.reversed,
        });
        println!("{value}");
    } else {
        println!("{}", summary_text(&summary));
        if accrued.orders > 0 {
            println!(
                "  points: {} orders earned {}, returns and cancellations took back {}",
                accrued.orders, accrued.earned, accrued.reversed
            );
        }
        if let Some(path) = reporter.errors_path() {
            println!("  refused rows are listed in {}", path.display());
        }
    }
    Ok(if summary.counts.rejected > 0 {
        ExitCode::from(SOME_REJECTED)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn generate(config: &Config, args: &GenerateArgs, json: bool) -> anyhow::Result<ExitCode> {
    let end = match &args.end {
        Some(text) => regulars_domain::parse_date(text).map_err(anyhow::Error::msg)?,
        None => SystemClock
            .now()
            .to_zoned(config.brand.time_zone.clone())
            .date()
            .yesterday()
            .context("the calendar ends here")?,
    };
    let spec = BrandSpec {
        members: args.members,
        seed: args.seed,
        end,
        zone: config.brand.time_zone.clone(),
    };
    let files =
        write_brand(&spec, &args.out).with_context(|| format!("writing {}", args.out.display()))?;
    if json {
        let rows: Vec<_> = files
            .iter()
            .map(|f| serde_json::json!({ "kind": f.kind.as_str(), "path": f.path.display().to_string(), "rows": f.rows }))
            .collect();
        println!("{}", serde_json::Value::Array(rows));
    } else {
        for file in &files {
            println!(
                "{:<13}{:>10} rows  {}",
                file.kind.as_str(),
                file.rows,
                file.path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
