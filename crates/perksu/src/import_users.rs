//! `perksu import-users --tenant SLUG FILE [--dry-run]`: the operator's door to the CSV import
//! that `POST /api/users/import` offers managers, with a progress bar on standard error.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use perksu_store::{ImportOptions, ImportProgress, Store};

use crate::DatabaseArgs;

#[derive(Args)]
pub struct ImportUsersArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// The slug of the tenant to import into.
    #[arg(long, value_name = "SLUG")]
    tenant: String,
    /// Check the file, report every problem, and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// The CSV file: email, first_name, last_name, role, department, manager_email.
    file: PathBuf,
}

pub async fn import_users(args: ImportUsersArgs) -> anyhow::Result<()> {
    let csv =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let store = crate::open(&args.database.database_url).await?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:>9} [{bar:40}] {pos}/{len} rows ({elapsed})")
            .context("the progress bar's template")?
            .progress_chars("=> "),
    );
    let show = |progress: ImportProgress| {
        let (message, done, total) = match progress {
            ImportProgress::Checking { done, total } => ("Checking", done, total),
            ImportProgress::Creating { done, total } => ("Creating", done, total),
        };
        bar.set_message(message);
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let options = ImportOptions {
        dry_run: args.dry_run,
        progress: &show,
    };
    let report = import(&store, &args.tenant, &csv, options).await;
    bar.finish_and_clear();
    let report = report?;
    for error in &report.errors {
        match error.column {
            Some(column) => println!("line {}, column {column}: {}", error.line, error.reason),
            None => println!("line {}: {}", error.line, error.reason),
        }
    }
    if !report.errors.is_empty() {
        bail!(
            "{} problem(s) in {} row(s); nothing was imported",
            report.errors.len(),
            report.rows
        );
    }
    if args.dry_run {
        println!(
            "OK: {} row(s) checked; nothing was imported (dry run).",
            report.rows
        );
    } else {
        println!(
            "Imported {} user(s) from {} row(s); each has a wallet and an invitation.",
            report.created, report.rows
        );
    }
    Ok(())
}

async fn import(
    store: &Store,
    slug: &str,
    csv: &[u8],
    options: ImportOptions<'_>,
) -> anyhow::Result<perksu_store::ImportReport> {
    store
        .import_users_as_operator(slug, csv, options)
        .await
        .with_context(|| format!("importing users into tenant {slug:?}"))
}
