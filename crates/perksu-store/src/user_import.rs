//! User import from CSV: the file HR has on day one, checked row by row and then written in one
//! transaction (departments as needed, each user with a wallet, managers linked, one invitation
//! per user, a `user_imports` record), or not at all.
//!
//! A file is refused as a whole if any row is bad, and every problem of every row is reported,
//! so one pass of corrections is enough. A dry run reports the same and writes nothing.

mod links;
mod parse;

use perksu_domain::access::{Actor, TenantScope};
use perksu_domain::{Entity, Error};

use crate::error::StoreResult;
use crate::tenants::TenantRow;
use crate::tx::{new_id, WriteTx};
use crate::users::{UserInsert, INVITED_PASSWORD_HASH};
use crate::Store;

/// Every column a file may have, in the order the documentation lists them.
pub const IMPORT_COLUMNS: [&str; 6] = [
    "email",
    "first_name",
    "last_name",
    "role",
    "department",
    "manager_email",
];

/// The most data rows one file may hold. 10,000 import in seconds; five times that is still a
/// single transaction of bounded size.
pub const MAX_IMPORT_ROWS: usize = 50_000;

/// One problem with a file: its 1-based line (the header is line 1; a row with a quoted line
/// break is counted at its first line), the column it is about, or `None` when it is about
/// the row or the file as a whole, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    pub line: u64,
    pub column: Option<&'static str>,
    pub reason: String,
}

impl ImportError {
    pub(crate) fn row(line: u64, reason: String) -> ImportError {
        ImportError {
            line,
            column: None,
            reason,
        }
    }

    pub(crate) fn cell(line: u64, column: &'static str, reason: String) -> ImportError {
        ImportError {
            line,
            column: Some(column),
            reason,
        }
    }
}

/// What an import found and did.
#[derive(Clone, Debug, Default)]
pub struct ImportReport {
    /// Data rows in the file.
    pub rows: usize,
    /// Every problem found, ordered by line. Not empty: nothing was written.
    pub errors: Vec<ImportError>,
    /// Users created: `rows` when the import was applied, else 0.
    pub created: usize,
}

/// How far an import has got, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportProgress {
    Checking { done: usize, total: usize },
    Creating { done: usize, total: usize },
}

/// How to run an import.
#[derive(Clone, Copy)]
pub struct ImportOptions<'a> {
    /// Check the file and write nothing.
    pub dry_run: bool,
    pub progress: &'a (dyn Fn(ImportProgress) + Send + Sync),
}

impl ImportOptions<'static> {
    /// Check and apply, with nobody watching the progress.
    pub fn apply() -> ImportOptions<'static> {
        ImportOptions {
            dry_run: false,
            progress: &|_| {},
        }
    }

    /// Check only.
    pub fn dry_run() -> ImportOptions<'static> {
        ImportOptions {
            dry_run: true,
            progress: &|_| {},
        }
    }
}

impl Store {
    /// Imports `csv` into a tenant for a tenant manager (their own) or a platform admin
    /// (`tenant_id` required), in one transaction that commits only when the file is clean
    /// and this is not a dry run.
    pub async fn import_users(
        &self,
        actor: &Actor,
        tenant_id: Option<&str>,
        csv: &[u8],
        options: ImportOptions<'_>,
    ) -> StoreResult<ImportReport> {
        let tenant_id = match actor.tenant_for_management(tenant_id)? {
            TenantScope::Named(id) => id.to_owned(),
            TenantScope::Foreign => return Err(Error::not_found(Entity::Tenant).into()),
        };
        let mut tx = self.begin().await?;
        let outcome = match tx.tenant(&tenant_id).await {
            Ok(tenant) => {
                tx.import_users(&tenant, Some(&actor.user_id), csv, options)
                    .await
            }
            Err(error) => Err(error),
        };
        finish(tx, outcome, options).await
    }

    /// Imports `csv` into the tenant with `slug` for the operator (`perksu import-users`),
    /// who acts as no user.
    pub async fn import_users_as_operator(
        &self,
        slug: &str,
        csv: &[u8],
        options: ImportOptions<'_>,
    ) -> StoreResult<ImportReport> {
        let mut tx = self.begin().await?;
        let outcome = match tx.tenant_by_slug(slug).await {
            Ok(tenant) => tx.import_users(&tenant, None, csv, options).await,
            Err(error) => Err(error),
        };
        finish(tx, outcome, options).await
    }
}

/// Commits an applied, clean import; rolls back everything else.
async fn finish(
    tx: WriteTx,
    outcome: StoreResult<ImportReport>,
    options: ImportOptions<'_>,
) -> StoreResult<ImportReport> {
    match outcome {
        Ok(report) if report.errors.is_empty() && !options.dry_run => {
            tx.commit().await?;
            Ok(report)
        }
        Ok(report) => {
            tx.rollback().await?;
            Ok(report)
        }
        Err(error) => {
            let _ = tx.rollback().await;
            Err(error)
        }
    }
}

impl WriteTx {
    /// Checks every row, and when all are good (and this is not a dry run) writes them. The
    /// caller decides whether to commit.
    pub(crate) async fn import_users(
        &mut self,
        tenant: &TenantRow,
        actor_id: Option<&str>,
        csv: &[u8],
        options: ImportOptions<'_>,
    ) -> StoreResult<ImportReport> {
        let mut file = parse::parse(csv, options.progress);
        let links = self
            .check_import_links(
                &tenant.id,
                &file.rows,
                &file.emails,
                &file.managers,
                &mut file.errors,
            )
            .await?;
        // Errors in file order; within a line, in the order they were found (columns left to
        // right, then what needed the database).
        file.errors.sort_by_key(|error| error.line);
        let mut report = ImportReport {
            rows: file.row_count,
            errors: file.errors,
            created: 0,
        };
        if !report.errors.is_empty() || options.dry_run {
            return Ok(report);
        }
        let departments = self
            .ensure_departments(&tenant.id, links.new_departments, links.departments)
            .await?;
        let mut rows = file.rows;
        // One order for every import, so two imports racing for the same email on PostgreSQL
        // wait for each other at the first shared one instead of deadlocking.
        rows.sort_by(|a, b| a.email.cmp(&b.email));
        let mut users = Vec::with_capacity(rows.len());
        for row in &rows {
            let department_id = row
                .department
                .as_deref()
                .and_then(|name| departments.get(&links::department_key(name)))
                .map(String::as_str);
            users.push(UserInsert {
                id: new_id(),
                email: &row.email,
                password_hash: INVITED_PASSWORD_HASH,
                first_name: &row.first_name,
                last_name: &row.last_name,
                role: row.role,
                department_id,
                // Linked below, once every user of the file exists.
                manager_id: None,
            });
        }
        let total = users.len();
        for (index, chunk) in users.chunks(crate::batch::ROWS_PER_STATEMENT).enumerate() {
            self.insert_tenant_users(&tenant.id, chunk).await?;
            let done = (index * crate::batch::ROWS_PER_STATEMENT + chunk.len()).min(total);
            (options.progress)(ImportProgress::Creating { done, total });
        }
        let mut ids_by_email = links.existing_users;
        for user in &users {
            ids_by_email.insert(user.email.to_owned(), user.id.clone());
        }
        let user_ids: Vec<&str> = users.iter().map(|user| user.id.as_str()).collect();
        self.link_managers(&rows, &user_ids, &ids_by_email).await?;
        self.invite_all(&tenant.id, &tenant.name, &user_ids).await?;
        self.record_import(&tenant.id, actor_id, report.rows, total)
            .await?;
        report.created = total;
        Ok(report)
    }

    async fn record_import(
        &mut self,
        tenant_id: &str,
        actor_id: Option<&str>,
        row_count: usize,
        created_count: usize,
    ) -> StoreResult<()> {
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let now = self.now().as_str().to_owned();
        sqlx::query(
            "insert into user_imports (id, tenant_id, actor_id, row_count, created_count, \
             created_at) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(tenant_id)
        .bind(actor_id)
        .bind(count(row_count))
        .bind(count(created_count))
        .bind(now)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
