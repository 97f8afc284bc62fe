//! What a file's rows point at in the database: emails already taken, managers named by email,
//! departments named by name. Looked up many at a time, inside the import's transaction.

use std::collections::{BTreeMap, HashMap};

use crate::batch::{placeholders, values_list, ROWS_PER_STATEMENT};
use crate::error::StoreResult;
use crate::rows::text;
use crate::tx::{new_id, WriteTx};

use super::parse::ParsedRow;
use super::ImportError;

/// What the rows' links resolved to.
pub(crate) struct Links {
    /// Existing users of the tenant named as managers, by email.
    pub existing_users: HashMap<String, String>,
    /// Existing departments the rows name, by [`department_key`].
    pub departments: HashMap<String, String>,
    /// Departments to create, by key, with the spelling of the first row that names them.
    pub new_departments: BTreeMap<String, String>,
}

/// Department names match without regard to case, so "Sales" and "sales" in one file (or in
/// the file and the tenant) are one department, spelled as it was first.
pub(crate) fn department_key(name: &str) -> String {
    name.to_lowercase()
}

impl WriteTx {
    /// Records an error for every email already taken and every manager that is neither a
    /// user of the tenant nor a row of the file, and resolves the departments.
    pub(crate) async fn check_import_links(
        &mut self,
        tenant_id: &str,
        rows: &[ParsedRow],
        file_emails: &HashMap<String, u64>,
        managers: &[(u64, String)],
        errors: &mut Vec<ImportError>,
    ) -> StoreResult<Links> {
        let emails: Vec<&str> = file_emails.keys().map(String::as_str).collect();
        // Emails are unique across every tenant (`users_email_key`), so any user counts.
        let taken = self.users_by_email(None, &emails).await?;
        for (email, line) in file_emails {
            if taken.contains_key(email) {
                errors.push(ImportError::cell(
                    *line,
                    "email",
                    "A user with this email already exists".to_owned(),
                ));
            }
        }
        let outside_file: Vec<&str> = managers
            .iter()
            .map(|(_, email)| email.as_str())
            .filter(|email| !file_emails.contains_key(*email))
            .collect();
        let existing_users = self.users_by_email(Some(tenant_id), &outside_file).await?;
        for (line, email) in managers {
            if !file_emails.contains_key(email) && !existing_users.contains_key(email) {
                errors.push(ImportError::cell(
                    *line,
                    "manager_email",
                    format!("{email} is neither a user of this tenant nor a row of this file"),
                ));
            }
        }
        let departments = self.departments_by_key(tenant_id).await?;
        let mut new_departments = BTreeMap::new();
        for name in rows.iter().filter_map(|row| row.department.as_deref()) {
            let key = department_key(name);
            if !departments.contains_key(&key) {
                new_departments
                    .entry(key)
                    .or_insert_with(|| name.to_owned());
            }
        }
        Ok(Links {
            existing_users,
            departments,
            new_departments,
        })
    }

    /// The users with these emails (of one tenant, or of any), as email → id.
    async fn users_by_email(
        &mut self,
        tenant_id: Option<&str>,
        emails: &[&str],
    ) -> StoreResult<HashMap<String, String>> {
        let mut found = HashMap::new();
        let mut sorted = emails.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        for chunk in sorted.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "select id, email from users where ($1 = '' or tenant_id = $1) and email in ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(tenant_id.unwrap_or(""));
            for email in chunk {
                query = query.bind(*email);
            }
            for row in query.fetch_all(self.conn()).await? {
                found.insert(text(&row, "email")?, text(&row, "id")?);
            }
        }
        Ok(found)
    }

    /// The tenant's departments as key → id (the first by name when two differ only in case).
    async fn departments_by_key(
        &mut self,
        tenant_id: &str,
    ) -> StoreResult<HashMap<String, String>> {
        let rows =
            sqlx::query("select id, name from departments where tenant_id = $1 order by name")
                .bind(tenant_id)
                .fetch_all(self.conn())
                .await?;
        let mut departments = HashMap::new();
        for row in rows {
            departments
                .entry(department_key(&text(&row, "name")?))
                .or_insert(text(&row, "id")?);
        }
        Ok(departments)
    }

    /// Creates the departments the file needs and answers every department by key. A
    /// department another transaction has just created is reused, not an error.
    pub(crate) async fn ensure_departments(
        &mut self,
        tenant_id: &str,
        new_departments: BTreeMap<String, String>,
        mut departments: HashMap<String, String>,
    ) -> StoreResult<HashMap<String, String>> {
        if new_departments.is_empty() {
            return Ok(departments);
        }
        let now = self.now().as_str().to_owned();
        let names: Vec<&str> = new_departments.values().map(String::as_str).collect();
        for chunk in names.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "insert into departments (id, tenant_id, name, created_at) values {} \
                 on conflict (tenant_id, name) do nothing",
                values_list("(?, ?, ?, ?)", chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for name in chunk {
                query = query
                    .bind(new_id())
                    .bind(tenant_id)
                    .bind(*name)
                    .bind(now.as_str());
            }
            query.execute(self.conn()).await?;
            let sql = format!(
                "select id, name from departments where tenant_id = $1 and name in ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(tenant_id);
            for name in chunk {
                query = query.bind(*name);
            }
            for row in query.fetch_all(self.conn()).await? {
                departments.insert(department_key(&text(&row, "name")?), text(&row, "id")?);
            }
        }
        Ok(departments)
    }

    /// Sets each imported user's manager: one statement per manager (and 500 reports), since
    /// a manager may be a row that was written after their reports.
    pub(crate) async fn link_managers(
        &mut self,
        rows: &[ParsedRow],
        user_ids: &[&str],
        ids_by_email: &HashMap<String, String>,
    ) -> StoreResult<()> {
        let mut reports: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (row, user_id) in rows.iter().zip(user_ids) {
            if let Some(manager_id) = row
                .manager_email
                .as_deref()
                .and_then(|email| ids_by_email.get(email))
            {
                reports.entry(manager_id).or_default().push(user_id);
            }
        }
        for (manager_id, user_ids) in reports {
            for chunk in user_ids.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "update users set manager_id = $1 where id in ({})",
                    placeholders(2, chunk.len())
                );
                let mut query = sqlx::query(&sql).bind(manager_id);
                for user_id in chunk {
                    query = query.bind(*user_id);
                }
                query.execute(self.conn()).await?;
            }
        }
        Ok(())
    }
}
