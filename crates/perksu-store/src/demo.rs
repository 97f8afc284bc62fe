//! Demo data for `perksu serve --demo`: a platform admin and two tenants with people, points
//! and ninety days of history.

use chrono::Duration;
use perksu_domain::access::Actor;
use perksu_domain::{FundingMode, Points, Role};

use crate::catalogue::RewardDraft;
use crate::clock::Timestamp;
use crate::demo_history::{DemoCompany, HISTORY_DAYS};
use crate::error::StoreResult;
use crate::passwords::PasswordHash;
use crate::points_ops::{AllocateCommand, DelegateCommand};
use crate::recognitions::NewRecognition;
use crate::tenants::{NewTenant, TenantPatch, TenantRow};
use crate::tx::WriteTx;
use crate::users::{NewUser, UserRow};
use crate::Store;

/// Every demo account's password.
pub const DEMO_PASSWORD: &str = "perksu-demo";

/// A login to print for the person starting the demo.
pub struct DemoLogin {
    pub email: String,
    pub role: Role,
    pub tenant: Option<String>,
}

struct DemoTenant {
    name: &'static str,
    slug: &'static str,
    mode: FundingMode,
    /// The opening allocation; a legacy tenant has none and runs on its budget.
    pool: i64,
    people: &'static [(&'static str, &'static str, Role)],
}

const TENANTS: &[DemoTenant] = &[
    DemoTenant {
        name: "Acme Corporation",
        slug: "acme",
        mode: FundingMode::Pool,
        pool: 50_000,
        people: &[
            ("Maya", "Manager", Role::TenantManager),
            ("Liam", "Lead", Role::Lead),
            ("Lena", "Lead", Role::Lead),
            ("Ethan", "Employee", Role::Employee),
            ("Emma", "Employee", Role::Employee),
            ("Noah", "Employee", Role::Employee),
            ("Olivia", "Employee", Role::Employee),
        ],
    },
    DemoTenant {
        name: "Globex",
        slug: "globex",
        mode: FundingMode::Legacy,
        pool: 0,
        people: &[
            ("Grace", "Manager", Role::TenantManager),
            ("Gabe", "Lead", Role::Lead),
            ("Gina", "Employee", Role::Employee),
            ("Gus", "Employee", Role::Employee),
        ],
    },
];

impl Store {
    /// Seeds the demo into an empty database: each company's opening day ninety days ago, then
    /// its history up to today (see `demo_history`), in one transaction. Afterwards the
    /// expiry policy and the order timeout run once, as the hourly jobs would have. Returns
    /// `None` when the database already has users, so a restart never seeds twice.
    pub async fn seed_demo(&self) -> StoreResult<Option<Vec<DemoLogin>>> {
        let mut tx = self.begin().await?;
        let existing = sqlx::query("select id from users limit 1")
            .fetch_optional(tx.conn())
            .await?;
        if existing.is_some() {
            tx.rollback().await?;
            return Ok(None);
        }
        let today = self.clock_now();
        let opening = today - Duration::days(HISTORY_DAYS);
        tx.set_now(Timestamp::from(opening));
        let hash = self.hash_password(DEMO_PASSWORD).await?;
        let admin = tx
            .create_platform_admin("admin@perksu.local", &hash)
            .await?;
        let admin_actor = admin.actor();
        let mut logins = vec![DemoLogin {
            email: admin.email.clone(),
            role: Role::PlatformAdmin,
            tenant: None,
        }];
        let mut companies = Vec::new();
        for spec in TENANTS {
            let (company, people) = tx.seed_demo_tenant(&admin_actor, spec, &hash).await?;
            logins.extend(people);
            companies.extend(company);
        }
        tx.seed_demo_history(&admin_actor, &companies, opening)
            .await?;
        tx.set_now(Timestamp::from(today));
        tx.commit().await?;
        self.run_expiry(false).await?;
        self.expire_overdue_redemptions().await?;
        Ok(Some(logins))
    }
}

impl WriteTx {
    /// One company's opening day: the tenant and its settings, its opening allocation, people,
    /// catalogue, delegations, welcome recognitions, awards and budget.
    async fn seed_demo_tenant(
        &mut self,
        admin: &Actor,
        spec: &DemoTenant,
        hash: &PasswordHash,
    ) -> StoreResult<(Option<DemoCompany>, Vec<DemoLogin>)> {
        let tenant = self.seed_demo_tenant_row(admin, spec).await?;
        let department = self
            .create_department(admin, Some(&tenant.id), "People Operations")
            .await?;
        let mut people = Vec::new();
        let mut logins = Vec::new();
        for (first, last, role) in spec.people {
            let email = format!("{}@{}.example", first.to_lowercase(), spec.slug);
            let new = NewUser {
                tenant_id: Some(tenant.id.clone()),
                email: email.clone(),
                password_hash: hash.clone(),
                first_name: (*first).into(),
                last_name: (*last).into(),
                role: *role,
                department_id: Some(department.id.clone()),
                manager_id: None,
            };
            people.push(self.create_user(admin, new).await?);
            logins.push(DemoLogin {
                email,
                role: *role,
                tenant: Some(spec.name.into()),
            });
        }
        let Some(manager) = people.iter().find(|u| u.role == Role::TenantManager) else {
            return Ok((None, logins));
        };
        let manager = manager.actor();
        let mut rewards = Vec::new();
        for draft in demo_catalogue() {
            let reward = self.create_reward(&manager, draft).await?;
            // What the history's buyers order: one fixed price and plenty in stock.
            if reward.denominations.is_empty() && reward.stock.is_none_or(|stock| stock >= 20) {
                rewards.push((reward.face_value, reward.id));
            }
        }
        rewards.sort();
        let rewards = rewards.into_iter().map(|(_, id)| id).collect();
        let leads: Vec<UserRow> = people
            .iter()
            .filter(|u| u.role == Role::Lead)
            .cloned()
            .collect();
        self.seed_demo_opening_points(&manager, spec, &department.id, &leads, &people)
            .await?;
        let company = DemoCompany {
            tenant_id: tenant.id,
            mode: spec.mode,
            manager,
            leads,
            employees: people
                .into_iter()
                .filter(|u| u.role == Role::Employee)
                .collect(),
            rewards,
        };
        Ok((Some(company), logins))
    }

    /// The tenant, its opening allocation, and the settings its history shows off: an alert
    /// threshold for leads in a pool company, a wallet expiry policy in a legacy one.
    async fn seed_demo_tenant_row(
        &mut self,
        admin: &Actor,
        spec: &DemoTenant,
    ) -> StoreResult<TenantRow> {
        let new = NewTenant {
            name: spec.name.into(),
            slug: spec.slug.into(),
            currency: "INR".into(),
            currency_label: "Points".into(),
            funding_mode: spec.mode,
            low_balance_threshold: Points::from_whole(1000),
        };
        let tenant = self.create_tenant(admin, new).await?;
        if spec.pool > 0 {
            let opening = AllocateCommand {
                tenant_id: tenant.id.clone(),
                amount: Points::from_whole(spec.pool),
                currency: None,
                reference_note: Some("Demo opening allocation".into()),
            };
            self.allocate_to_tenant(admin, opening).await?;
        }
        let patch = match spec.mode {
            FundingMode::Pool => TenantPatch {
                lead_low_balance_threshold: Some(Some(Points::from_whole(1600))),
                ..TenantPatch::default()
            },
            FundingMode::Legacy => TenantPatch {
                wallet_expiry_days: Some(Some(60)),
                ..TenantPatch::default()
            },
        };
        self.update_tenant(admin, &tenant.id, patch).await
    }

    /// The opening day's points: delegations to the leads, welcome recognitions, awards and
    /// the budget (before the recognitions in a legacy company, which they are paid from).
    async fn seed_demo_opening_points(
        &mut self,
        manager: &Actor,
        spec: &DemoTenant,
        department_id: &str,
        leads: &[UserRow],
        people: &[UserRow],
    ) -> StoreResult<()> {
        let leads: Vec<&UserRow> = leads.iter().collect();
        if spec.mode == FundingMode::Legacy {
            self.seed_demo_budget(manager, department_id, &leads, 15_000)
                .await?;
        }
        for lead in leads.iter().filter(|_| spec.mode == FundingMode::Pool) {
            let delegation = DelegateCommand {
                lead_id: lead.id.clone(),
                amount: Points::from_whole(2000),
                delegation_note: Some("Quarterly team budget".into()),
            };
            self.delegate_to_lead(manager, delegation).await?;
        }
        let employees: Vec<_> = people.iter().filter(|u| u.role == Role::Employee).collect();
        for employee in &employees {
            let message = format!("Welcome to the team, {}!", employee.first_name);
            self.create_recognition(manager, demo_recognition(&employee.id, 1500, message))
                .await?;
        }
        for (lead, employee) in leads.iter().zip(employees.iter().cycle()) {
            let message = format!(
                "Thank you, {}, for going the extra mile!",
                employee.first_name
            );
            self.create_recognition(&lead.actor(), demo_recognition(&employee.id, 250, message))
                .await?;
        }
        self.seed_demo_awards(manager, people).await?;
        if spec.mode == FundingMode::Pool {
            self.seed_demo_budget(manager, department_id, &leads, 30_000)
                .await?;
        }
        Ok(())
    }
}

/// A small catalogue with one item of each kind.
fn demo_catalogue() -> Vec<RewardDraft> {
    let item = |kind: &str, name: &str, category: &str, brand: Option<&str>| RewardDraft {
        kind: kind.into(),
        name: name.into(),
        description: None,
        category: Some(category.into()),
        brand: brand.map(Into::into),
        face_value: None,
        denominations: Vec::new(),
        stock: None,
        status: "active".into(),
    };
    vec![
        RewardDraft {
            description: Some("A digital gift card, delivered as a code.".into()),
            denominations: vec![
                Points::from_whole(500),
                Points::from_whole(1000),
                Points::from_whole(2000),
            ],
            ..item(
                "gift_card",
                "Bookshop gift card",
                "Gift cards",
                Some("PageTurner"),
            )
        },
        RewardDraft {
            description: Some("Soft organic cotton, company logo.".into()),
            face_value: Some(Points::from_whole(1200)),
            stock: Some(25),
            ..item(
                "merchandise",
                "Company hoodie",
                "Merchandise",
                Some("Perksu"),
            )
        },
        RewardDraft {
            description: Some("One extra paid day off, agreed with your manager.".into()),
            face_value: Some(Points::from_whole(5000)),
            stock: Some(10),
            ..item("custom", "Extra day off", "Experiences", None)
        },
        RewardDraft {
            description: Some("We plant a tree in your name.".into()),
            face_value: Some(Points::from_whole(100)),
            ..item("charity", "Plant a tree", "Giving", Some("Green Earth"))
        },
    ]
}

fn demo_recognition(to_user_id: &str, points: i64, message: String) -> NewRecognition {
    NewRecognition::standard(to_user_id.to_owned(), Points::from_whole(points), message)
}
