//! The command line: every command and flag, with its help next to its definition.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use regulars_domain::ApiRole;
use regulars_server::app::{App, FactKind, Format, SystemClock};
use regulars_server::{Config, EXAMPLE_CONFIG, Overrides, init_telemetry};

use crate::{bench, demo, import};

/// Regulars: a member platform for brands that live on repeat customers.
#[derive(Debug, Parser)]
#[command(name = "regulars", version, about, max_term_width = 100)]
pub struct Cli {
    /// The database: sqlite://PATH or postgres://… (default: a SQLite file in the data directory).
    #[arg(long, global = true, env = "REGULARS_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
    /// A configuration file (default: ./regulars.toml if it exists).
    #[arg(long, global = true, env = "REGULARS_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Print machine-readable JSON instead of text (read commands).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an embedded database with a realistic coffee chain and serve the API on localhost.
    Demo(DemoArgs),
    /// Serve the HTTP API.
    Serve {
        /// Address to listen on (default from the configuration: 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Bring the database schema up to date.
    Migrate,
    /// Import facts from a file; bad rows go to an errors file and the good rows land.
    Import(ImportArgs),
    /// Write a realistic, deterministic brand as import files.
    Generate(GenerateArgs),
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Count the stored facts of each kind.
    Stats,
    /// Every member's segments (RFM, RFM-8, NESL, RFIM) as of a day.
    Segment(crate::segment::SegmentArgs),
    /// Audience rules: check one, or count the members it selects.
    Audience(crate::audience::AudienceArgs),
    /// Members' points: earn, redeem, adjust, history.
    Points(crate::points::PointsArgs),
    /// Coupons: templates, codes, issue, list, validate, redeem, void.
    Coupons(crate::coupons::CouponsArgs),
    /// Tiers: the ladder, a member's tier, evaluate, near the next tier, the change log.
    Tiers(crate::tiers::TiersArgs),
    /// Referrals: a member's code, refer a new member, list, settle.
    Referrals(crate::referrals::ReferralsArgs),
    /// What a member's app shows: points, coupons usable now, tier and progress, referral code.
    Wallet(crate::referrals::WalletArgs),
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Measure import and ingest speed on generated data (medians of several runs).
    Bench(bench::BenchArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo keeps its database and generated files; reused if it holds a demo already.
    #[arg(long, value_name = "DIR", default_value = "regulars-demo")]
    pub data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// How many members the generated brand has.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub members: u32,
    /// The generator's seed.
    #[arg(long, value_name = "S", default_value_t = 42)]
    pub seed: u64,
}

/// The fact kinds, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Stores,
    Members,
    Orders,
    OrderLines,
    Returns,
    Interactions,
    Events,
}

impl From<KindArg> for FactKind {
    fn from(kind: KindArg) -> Self {
        match kind {
            KindArg::Stores => Self::Stores,
            KindArg::Members => Self::Members,
            KindArg::Orders => Self::Orders,
            KindArg::OrderLines => Self::OrderLines,
            KindArg::Returns => Self::Returns,
            KindArg::Interactions => Self::Interactions,
            KindArg::Events => Self::Events,
        }
    }
}

/// The file formats, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// The generic CSV (docs/import-format.md).
    Csv,
    /// One JSON object per line, in the API's request shape.
    Jsonl,
    /// Shopify's customers (members) or orders (orders) CSV export.
    Shopify,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Csv => Self::Csv,
            FormatArg::Jsonl => Self::Jsonl,
            FormatArg::Shopify => Self::Shopify,
        }
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What the file holds.
    #[arg(value_enum)]
    pub kind: KindArg,
    /// The file.
    pub file: PathBuf,
    /// How it is written.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: FormatArg,
    /// Refuse facts for members or stores not known yet instead of creating them.
    #[arg(long)]
    pub strict: bool,
    /// Where refused rows are written (file, line, field, reason); default FILE.errors.csv.
    #[arg(long, value_name = "PATH")]
    pub errors: Option<PathBuf>,
    /// Rows per batch written to the database.
    #[arg(long, value_name = "N", default_value_t = 5_000)]
    pub batch_size: usize,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many members.
    #[arg(long, value_name = "N")]
    pub members: u32,
    /// The seed: the same seed and end date give the same brand.
    #[arg(long, value_name = "S", default_value_t = 42)]
    pub seed: u64,
    /// The folder to write the files into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The last day of history (default: yesterday in the brand's time zone, so every fact is past).
    #[arg(long, value_name = "DATE")]
    pub end: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make an API key and print its token (shown once).
    Create {
        /// admin, marketer, analyst (read only) or ingest (write facts only).
        #[arg(long)]
        role: String,
        /// What the key is for.
        #[arg(long)]
        label: Option<String>,
    },
    /// List the API keys (never their secrets).
    List,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the annotated example configuration.
    Example,
}

impl Cli {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            config_path: self.config.clone(),
            database_url: self.database.clone(),
            ..Overrides::default()
        }
    }
}

/// Loads the configuration, reports its warnings and starts logging at `default_filter` unless
/// the configuration or RUST_LOG says otherwise.
pub fn load_config(overrides: &Overrides, quiet: bool) -> anyhow::Result<Config> {
    let config = Config::load(overrides).context("loading the configuration")?;
    let filter = if quiet && config.log.filter == "info" {
        "warn"
    } else {
        config.log.filter.as_str()
    };
    init_telemetry(filter, config.log.format, std::io::stderr);
    for warning in &config.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(config)
}

pub async fn open_app(config: &Config) -> anyhow::Result<App> {
    regulars_server::open_app(config, Arc::new(SystemClock)).await
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let mut overrides = cli.overrides();
    match cli.command {
        Command::Config {
            command: ConfigCommand::Example,
        } => {
            print!("{EXAMPLE_CONFIG}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&regulars_api::openapi())
                    .context("serialising the document")?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => {
            overrides.data_dir = Some(args.data_dir.clone());
            overrides.listen = Some(args.listen.clone());
            let config = load_config(&overrides, false)?;
            demo::run(&config, &args).await
        }
        Command::Serve { listen } => {
            overrides.listen = listen;
            let config = load_config(&overrides, false)?;
            let server = regulars_server::Server::build(&config).await?;
            println!("listening on http://{}", server.local_addr());
            server.run_until(regulars_server::shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let config = load_config(&overrides, true)?;
            open_app(&config).await?;
            println!("{} is up to date", config.database_url);
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(args) => {
            let config = load_config(&overrides, true)?;
            let app = open_app(&config).await?;
            import::run(&app, &args, json).await
        }
        Command::Generate(args) => {
            let config = load_config(&overrides, true)?;
            import::generate(&config, &args, json)
        }
        Command::Keys { command } => {
            let config = load_config(&overrides, true)?;
            let app = open_app(&config).await?;
            match command {
                KeysCommand::Create { role, label } => {
                    let role = ApiRole::parse(&role).map_err(anyhow::Error::msg)?;
                    let (token, record) = app.create_api_key(role, label).await?;
                    if json {
                        println!(
                            "{}",
                            serde_json::json!({ "key_id": record.key_id, "role": role.as_str(), "token": token })
                        );
                    } else {
                        println!("{token}");
                        eprintln!(
                            "role {}: keep this token safe; it is shown only once",
                            role.as_str()
                        );
                    }
                }
                KeysCommand::List => {
                    let keys = app.api_keys().await?;
                    if json {
                        let rows: Vec<_> = keys
                            .iter()
                            .map(|k| serde_json::json!({
                                "key_id": k.key_id, "role": k.role.as_str(), "label": k.label,
                                "created_at": k.created_at.to_string(), "revoked": k.revoked_at.is_some(),
                            }))
                            .collect();
                        println!("{}", serde_json::Value::Array(rows));
                    } else {
                        for k in keys {
                            println!(
                                "{}  {:<8}  {}  {}",
                                k.key_id,
                                k.role.as_str(),
                                k.created_at,
                                k.label.unwrap_or_default()
                            );
                        }
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Stats => {
            let config = load_config(&overrides, true)?;
            let app = open_app(&config).await?;
            let counts = app.fact_counts().await?;
            let rows = [
                ("members", counts.members),
                ("stores", counts.stores),
                ("orders", counts.orders),
                ("order_lines", counts.order_lines),
                ("returns", counts.returns),
                ("interactions", counts.interactions),
                ("events", counts.events),
            ];
            if json {
                let object: serde_json::Map<String, serde_json::Value> = rows
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
                    .collect();
                println!("{}", serde_json::Value::Object(object));
            } else {
                for (kind, count) in rows {
                    println!("{kind:<13}{count:>12}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Segment(args) => {
            let config = load_config(&overrides, true)?;
            let app = open_app(&config).await?;
            crate::segment::run(&app, &args, json).await
        }
        Command::Audience(args) => {
            if !args.needs_database() {
                return crate::audience::run(None, &args, json).await;
            }
            let config = load_config(&overrides, true)?;
            let app = open_app(&config).await?;
            crate::audience::run(Some(&app), &args, json).await
        }
        Command::Points(args) => {
            let config = load_config(&overrides, true)?;
            let app = open_app(&config).await?;
            crate::points::run(&app, &args, json).await
        }
        Command::Coupons(args) => {
            let config = load_config(&overrides, true)?;
            let app = open_app(&config).await?;
            crate::coupons::run(&app, &args, json).await
        }
        Command::Tiers(args) => {
            let config = load_config(&overrides, true)?;
            let app = open_app(&config).await?;
            crate::tiers::run(&app, &args, json).await
        }
        Command::Referrals(args) => {
            let config = load_config(&overrides, true)?;
            let app = open_app(&config).await?;
            crate::referrals::run(&app, &args, json).await
        }
        Command::Wallet(args) => {
            let config = load_config(&overrides, true)?;
            let app = open_app(&config).await?;
            crate::referrals::wallet(&app, &args, json).await
        }
        Command::Bench(args) => {
            let config = load_config(&overrides, true)?;
            bench::run(&config, &args, json).await
        }
    }
}
