//! `regulars audience check` and `regulars audience preview`: an audience rule, written as text
//! (`nesl in (S1, S2) and bought(category = "pastry", within = 30d)`) or as the API's JSON,
//! checked and run over the local database.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use regulars_api_types::AudienceRuleJson;
use regulars_domain::audience::{AudienceRule, parse_rule};
use regulars_formats::audience::{rule_from_json, rule_to_json};
use regulars_server::app::App;

#[derive(Debug, Args)]
pub struct AudienceArgs {
    #[command(subcommand)]
    command: AudienceCommand,
}

#[derive(Debug, Subcommand)]
enum AudienceCommand {
    /// Reads a rule and prints it in canonical text and in JSON, or says where it is wrong.
    Check {
        /// The rule as text, as JSON (starting with `{`), or `@FILE` to read either from a file.
        rule: String,
    },
    /// How many members a rule selects, and the first of them.
    Preview {
        /// The rule as text, as JSON (starting with `{`), or `@FILE` to read either from a file.
        rule: String,
        /// Evaluate as of the end of this date, ignoring later facts (default: today).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// How many member ids to show.
        #[arg(long, default_value_t = 10)]
        sample: usize,
    },
}

/// The rule `argument` names: text, JSON, or a file holding either.
fn read_rule(argument: &str) -> anyhow::Result<AudienceRule> {
    let text = match argument.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the rule file {path}: {e}"))?,
        None => argument.to_owned(),
    };
    if text.trim_start().starts_with('{') {
        let json: AudienceRuleJson = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("the rule is not valid JSON: {e}"))?;
        return rule_from_json(&json).map_err(|errors| {
            let lines: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("the rule was refused:\n{}", lines.join("\n"))
        });
    }
    parse_rule(&text).map_err(|e| anyhow::anyhow!("the rule was refused: {e}"))
}

pub async fn run(app: Option<&App>, args: &AudienceArgs, json: bool) -> anyhow::Result<ExitCode> {
    match &args.command {
        AudienceCommand::Check { rule } => {
            let rule = read_rule(rule)?;
            let as_json = serde_json::to_string_pretty(&rule_to_json(&rule))?;
            if json {
                println!("{as_json}");
            } else {
                println!("{rule}\n\n{as_json}");
            }
        }
        AudienceCommand::Preview {
            rule,
            as_of,
            sample,
        } => {
            let rule = read_rule(rule)?;
            let app = app.expect("preview opens the database");
            let as_of = as_of
                .as_deref()
                .map(regulars_domain::parse_date)
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let preview = app.preview_audience(&rule, as_of, *sample).await?;
            let sample: Vec<&str> = preview.sample.iter().map(|id| id.as_str()).collect();
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "as_of": preview.as_of.to_string(),
                        "rule": rule.to_string(),
                        "count": preview.count,
                        "members": preview.members,
                        "sample": sample,
                    })
                );
            } else {
                let share = preview.count as f64 * 100.0 / preview.members.max(1) as f64;
                println!(
                    "{} of {} members ({share:.1}%) as of {}",
                    preview.count, preview.members, preview.as_of
                );
                if !sample.is_empty() {
                    println!("first: {}", sample.join(", "));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

impl AudienceArgs {
    /// Whether the command reads the database.
    pub fn needs_database(&self) -> bool {
        matches!(self.command, AudienceCommand::Preview { .. })
    }
}
