//! `perksu verify`, budgets: every counter a recognition moves agrees with the recognitions.
//!
//! A department share's and a lead allocation's `spent_points` are the recognitions charged to
//! them, a department's month counter is that month's charges, a budget's `allocated_points`
//! is its split, and each legacy tenant's `budget:<tenant id>` account is minus the
//! recognitions its budgets paid for.

use std::collections::BTreeMap;

use perksu_domain::Points;
use sqlx::{AnyConnection, Row};

use crate::error::StoreResult;
use crate::verify::VerifyReport;

/// A check: a query returning `label` and two bigint columns `stored` and `derived`, and what
/// it is about. Rows where they differ are violations.
const COUNTER_CHECKS: &[(&str, &str)] = &[
    (
        "department share spent",
        "select d.id as label, d.spent_points as stored, \
           cast(coalesce((select sum(r.points) from recognitions r \
             where r.department_budget_id = d.id), 0) as bigint) as derived \
         from department_budgets d",
    ),
    (
        "lead allocation spent",
        "select l.id as label, l.spent_points as stored, \
           cast(coalesce((select sum(r.points) from recognitions r \
             where r.lead_allocation_id = l.id), 0) as bigint) as derived \
         from lead_allocations l",
    ),
    (
        "department month spent",
        "select m.department_budget_id || ' ' || m.month as label, m.spent_points as stored, \
           cast(coalesce((select sum(r.points) from recognitions r \
             where r.department_budget_id = m.department_budget_id \
               and r.budget_month = m.month), 0) as bigint) as derived \
         from department_budget_months m",
    ),
    (
        "budget split",
        "select b.id as label, b.allocated_points as stored, \
           cast(coalesce((select sum(d.allocated_points) from department_budgets d \
             where d.budget_id = b.id), 0) \
           + coalesce((select sum(l.allocated_points) from lead_allocations l \
             where l.budget_id = b.id), 0) as bigint) as derived \
         from budgets b",
    ),
];

pub(crate) async fn check_budgets(
    conn: &mut AnyConnection,
    journal: &BTreeMap<String, i64>,
    report: &mut VerifyReport,
) -> StoreResult<()> {
    for (what, sql) in COUNTER_CHECKS {
        for row in sqlx::query(sql).fetch_all(&mut *conn).await? {
            let stored: i64 = row.try_get("stored")?;
            let derived: i64 = row.try_get("derived")?;
            if stored != derived {
                let label: String = row.try_get("label")?;
                report.violations.push(format!(
                    "{what} {label}: stored {} but its recognitions say {}",
                    Points::from_hundredths(stored),
                    Points::from_hundredths(derived)
                ));
            }
        }
    }
    // What each tenant's budgets minted, from the recognitions they funded.
    let rows = sqlx::query(
        "select tenant_id, cast(sum(points) as bigint) as minted from recognitions \
         where funding_source in ('lead_allocation', 'department_budget') group by tenant_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut minted: BTreeMap<String, i64> = BTreeMap::new();
    for row in rows {
        minted.insert(
            format!("budget:{}", row.try_get::<String, _>("tenant_id")?),
            row.try_get("minted")?,
        );
    }
    let accounts = journal.iter().filter(|(key, _)| key.starts_with("budget:"));
    for (key, balance) in accounts {
        let expected = minted.remove(key).unwrap_or(0);
        if -balance != expected {
            report.violations.push(format!(
                "{key}: paid out {} but its recognitions say {}",
                Points::from_hundredths(-balance),
                Points::from_hundredths(expected)
            ));
        }
    }
    for (key, expected) in minted {
        report.violations.push(format!(
            "{key}: recognitions say {} was paid out but the journal has nothing",
            Points::from_hundredths(expected)
        ));
    }
    Ok(())
}
