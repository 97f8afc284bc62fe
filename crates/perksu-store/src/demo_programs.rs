//! Demo data for recognition programs: an active budget split between a department and the
//! leads, and a few awards, e-cards and badges so the feed has something to show.

use perksu_domain::access::Actor;
use perksu_domain::recognition::{RecognitionType, SplitMode};
use perksu_domain::{Points, Role};

use crate::budgets::{DepartmentShare, NewBudget};
use crate::demo_history::award;
use crate::error::StoreResult;
use crate::recognitions::NewRecognition;
use crate::tx::WriteTx;
use crate::users::UserRow;

/// The system badge "Team Player" (seeded by migration 0007).
const TEAM_PLAYER_BADGE: &str = "00000000-0000-7000-8000-000000000001";
/// The system badge "Above and Beyond".
const ABOVE_AND_BEYOND_BADGE: &str = "00000000-0000-7000-8000-000000000004";

impl WriteTx {
    /// An active budget of `total` points: most of it for the department (with a monthly
    /// cap), 1000 for each lead.
    pub(crate) async fn seed_demo_budget(
        &mut self,
        manager: &Actor,
        department_id: &str,
        leads: &[&UserRow],
        total: i64,
    ) -> StoreResult<()> {
        let year = self
            .now()
            .as_str()
            .get(..4)
            .and_then(|y| y.parse().ok())
            .unwrap_or(2026);
        let budget = self
            .create_budget(
                manager,
                NewBudget {
                    name: format!("Recognition budget {year}"),
                    fiscal_year: year,
                    fiscal_quarter: None,
                    total_points: Points::from_whole(total),
                    expiry_date: None,
                },
            )
            .await?;
        let lead_share = 1_000;
        let leads_total = lead_share * i64::try_from(leads.len()).unwrap_or(0);
        self.set_department_share(
            manager,
            &budget.id,
            department_id,
            DepartmentShare {
                allocated_points: Points::from_whole(total - leads_total),
                monthly_cap: Some(Points::from_whole((total - leads_total) / 2)),
            },
        )
        .await?;
        for lead in leads {
            self.set_lead_allocation(
                manager,
                &budget.id,
                &lead.id,
                Points::from_whole(lead_share),
            )
            .await?;
        }
        self.activate_budget(manager, &budget.id).await?;
        Ok(())
    }

    /// A group award from the manager to the employees, a tier award, and an e-card between
    /// two employees.
    pub(crate) async fn seed_demo_awards(
        &mut self,
        manager: &Actor,
        people: &[UserRow],
    ) -> StoreResult<()> {
        let employees: Vec<&UserRow> = people.iter().filter(|u| u.role == Role::Employee).collect();
        if employees.len() >= 2 {
            let group = NewRecognition {
                points: Some(Points::from_whole(1000)),
                split: Some(SplitMode::Equal),
                badge_id: Some(TEAM_PLAYER_BADGE.to_owned()),
                ..award(
                    RecognitionType::GroupAward,
                    employees.iter().map(|e| e.id.clone()).collect(),
                    "For shipping the new onboarding flow together",
                )
            };
            self.create_recognition(manager, group).await?;
            let ecard = NewRecognition {
                ecard_template: Some("thank_you".to_owned()),
                ..award(
                    RecognitionType::Ecard,
                    vec![employees[1].id.clone()],
                    "Thanks for covering my shift!",
                )
            };
            self.create_recognition(&employees[0].actor(), ecard)
                .await?;
        }
        if let Some(first) = employees.first() {
            let tier = NewRecognition {
                award_tier: Some("Bronze".to_owned()),
                badge_id: Some(ABOVE_AND_BEYOND_BADGE.to_owned()),
                ..award(
                    RecognitionType::IndividualAward,
                    vec![first.id.clone()],
                    "Customer feedback was glowing this month",
                )
            };
            self.create_recognition(manager, tier).await?;
        }
        Ok(())
    }
}
