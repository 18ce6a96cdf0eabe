//! `regulars demo`: an embedded database with a generated coffee chain, served on localhost.

use std::process::ExitCode;

use anyhow::Context as _;
use regulars_domain::ApiRole;
use regulars_generate::BrandSpec;
use regulars_server::app::write_brand;
use regulars_server::{Config, Server, shutdown_signal};

use crate::cli::{DemoArgs, open_app};
use crate::import::summary_text;
use crate::output::Reporter;

pub async fn run(config: &Config, args: &DemoArgs) -> anyhow::Result<ExitCode> {
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
    println!("  curl -s http://{address}/api/openapi.json");
    println!("press Ctrl-C to stop");
    server.run_until(shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}
