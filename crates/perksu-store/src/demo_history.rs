//! The demo's past: ninety days of each demo company's life before today, written day by day
//! through the same `WriteTx` calls the API makes, with the transaction's clock set to each day
//! in turn. Allocation and spending charts, usage reports and history pages then have a shape,
//! and every kind of row the product writes has an example: top-ups, a reversal, delegations,
//! recognitions of every type, orders in every state the demo can reach, and a fired
//! low-balance alert. Everything stays in the demo's one transaction, so a failed seed leaves
//! nothing behind.

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use perksu_domain::access::Actor;
use perksu_domain::recognition::{RecognitionType, SplitMode, Visibility};
use perksu_domain::rewards::RedemptionStatus;
use perksu_domain::{FundingMode, Points};

use crate::allocations::ReverseAllocationCommand;
use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::points_ops::{AllocateCommand, DelegateCommand};
use crate::recognitions::NewRecognition;
use crate::redemptions::{OrderCommand, TransitionRequest};
use crate::tx::WriteTx;
use crate::users::UserRow;

/// How far back the demo's history reaches.
pub(crate) const HISTORY_DAYS: i64 = 90;

/// A demo company as its opening day left it: who acts in its history.
pub(crate) struct DemoCompany {
    pub tenant_id: String,
    pub mode: FundingMode,
    pub manager: Actor,
    pub leads: Vec<UserRow>,
    pub employees: Vec<UserRow>,
    /// The catalogue's rewards with one fixed price, cheapest first: what employees order.
    pub rewards: Vec<String>,
}

/// The fate of the orders placed in the history, by the day they were placed.
const ORDERS: &[(i64, &[RedemptionStatus])] = &[
    (
        12,
        &[
            RedemptionStatus::Processing,
            RedemptionStatus::Shipped,
            RedemptionStatus::Delivered,
        ],
    ),
    (
        26,
        &[RedemptionStatus::Processing, RedemptionStatus::Delivered],
    ),
    (
        40,
        &[RedemptionStatus::Processing, RedemptionStatus::Shipped],
    ),
    (52, &[RedemptionStatus::Cancelled]),
    // Left pending past the tenant's fulfilment timeout: the sweep after the seed expires it.
    (58, &[]),
    (61, &[RedemptionStatus::Rejected]),
    (
        70,
        &[RedemptionStatus::Processing, RedemptionStatus::Failed],
    ),
    (81, &[RedemptionStatus::Processing]),
    (88, &[]),
];

impl WriteTx {
    /// Days 1 to 89 after `opening`, each an hour past the opening's time of day, for every
    /// company.
    pub(crate) async fn seed_demo_history(
        &mut self,
        admin: &Actor,
        companies: &[DemoCompany],
        opening: DateTime<Utc>,
    ) -> StoreResult<()> {
        for day in 1..HISTORY_DAYS {
            let at = opening + Duration::days(day) + Duration::hours(1);
            self.set_now(Timestamp::from(at));
            for company in companies {
                if company.mode == FundingMode::Pool {
                    self.seed_demo_funding(admin, company, day).await?;
                    self.seed_demo_order(company, day).await?;
                }
                if !matches!(at.weekday(), Weekday::Sat | Weekday::Sun) {
                    self.seed_demo_workday(company, day).await?;
                }
            }
        }
        Ok(())
    }

    /// Fortnightly top-ups from the platform, a reversal of half of one of them, and monthly
    /// delegations to the leads.
    async fn seed_demo_funding(
        &mut self,
        admin: &Actor,
        company: &DemoCompany,
        day: i64,
    ) -> StoreResult<()> {
        if day % 14 == 0 {
            let topped = self
                .allocate_to_tenant(
                    admin,
                    AllocateCommand {
                        tenant_id: company.tenant_id.clone(),
                        amount: Points::from_whole(4000),
                        currency: None,
                        reference_note: Some("Fortnightly top-up".into()),
                    },
                )
                .await?;
            if day == 28 {
                self.reverse_allocation(
                    admin,
                    ReverseAllocationCommand {
                        allocation_log_id: topped.allocation_log_id,
                        amount: Some(Points::from_whole(2000)),
                        reason: "Top-up sent twice this month: half taken back".into(),
                    },
                )
                .await?;
            }
        }
        if day % 30 == 0 {
            for lead in &company.leads {
                self.delegate_to_lead(
                    &company.manager,
                    DelegateCommand {
                        lead_id: lead.id.clone(),
                        amount: Points::from_whole(400),
                        delegation_note: Some("Monthly team top-up".into()),
                    },
                )
                .await?;
            }
        }
        Ok(())
    }

    /// An order placed on `day` (if one is), taken through its fate's transitions.
    async fn seed_demo_order(&mut self, company: &DemoCompany, day: i64) -> StoreResult<()> {
        let Some((_, fate)) = ORDERS.iter().find(|(placed, _)| *placed == day) else {
            return Ok(());
        };
        let (Some(employee), Some(item_id)) =
            (pick(&company.employees, day), pick(&company.rewards, day))
        else {
            return Ok(());
        };
        let buyer = employee.actor();
        let order = self
            .place_order(
                &buyer,
                OrderCommand {
                    item_id: item_id.clone(),
                    face_value: None,
                    quantity: 1,
                    shipping_address: Some("Acme HQ, reception desk".into()),
                },
                |_| "manual",
            )
            .await?;
        for next in fate.iter().copied() {
            if next == RedemptionStatus::Cancelled {
                self.cancel_order(&buyer, &order.id).await?;
                continue;
            }
            let note = match next {
                RedemptionStatus::Rejected => Some("Not available in your region"),
                RedemptionStatus::Failed => Some("The supplier could not deliver"),
                _ => None,
            };
            let request = TransitionRequest {
                tracking_number: (next == RedemptionStatus::Shipped).then_some("TRK-DEMO-1"),
                ..TransitionRequest::to(next, Some(&company.manager.user_id), note)
            };
            self.fulfil_order(&company.manager, &order.id, request)
                .await?;
        }
        Ok(())
    }

    /// A working day: a recognition from the manager or a lead, and now and then a group
    /// award, a tier award or an e-card.
    async fn seed_demo_workday(&mut self, company: &DemoCompany, day: i64) -> StoreResult<()> {
        let Some(recipient) = pick(&company.employees, day * 3) else {
            return Ok(());
        };
        let giver = match pick(&company.leads, day) {
            Some(lead) if day % 3 != 0 => lead.actor(),
            _ => company.manager.clone(),
        };
        let points = Points::from_whole(10 + (day * 7 % 5) * 10);
        let message = format!(
            "{} {}",
            THANKS[(day as usize) % THANKS.len()],
            recipient.first_name
        );
        self.create_recognition(
            &giver,
            NewRecognition::standard(recipient.id.clone(), points, message),
        )
        .await?;
        if day % 21 == 0 && company.employees.len() >= 2 {
            let team = company.employees.iter().map(|e| e.id.clone()).collect();
            let group = NewRecognition {
                points: Some(Points::from_whole(200)),
                split: Some(SplitMode::Equal),
                ..award(
                    RecognitionType::GroupAward,
                    team,
                    "For a smooth quarter close",
                )
            };
            self.create_recognition(&company.manager, group).await?;
        }
        if day % 25 == 0 {
            let tier = NewRecognition {
                award_tier: Some("Bronze".to_owned()),
                ..award(
                    RecognitionType::IndividualAward,
                    vec![recipient.id.clone()],
                    "A customer wrote in to thank you",
                )
            };
            self.create_recognition(&company.manager, tier).await?;
        }
        if day % 9 == 0 {
            if let (Some(from), Some(to)) = (
                pick(&company.employees, day + 1),
                pick(&company.employees, day + 2),
            ) {
                let ecard = NewRecognition {
                    ecard_template: Some("thank_you".to_owned()),
                    ..award(
                        RecognitionType::Ecard,
                        vec![to.id.clone()],
                        "Thanks for the help!",
                    )
                };
                if from.id != to.id {
                    self.create_recognition(&from.actor(), ecard).await?;
                }
            }
        }
        Ok(())
    }
}

const THANKS: &[&str] = &[
    "Great demo today,",
    "Thanks for unblocking the release,",
    "Lovely work on the customer call,",
    "Thank you for the thorough review,",
    "You made onboarding painless,",
];

/// The `n`th item, cycling; `None` only when there is none.
fn pick<T>(items: &[T], n: i64) -> Option<&T> {
    let len = i64::try_from(items.len()).ok().filter(|len| *len > 0)?;
    usize::try_from(n.rem_euclid(len))
        .ok()
        .and_then(|index| items.get(index))
}

/// A public recognition of `recognition_type` with nothing else set.
pub(crate) fn award(
    recognition_type: RecognitionType,
    recipient_ids: Vec<String>,
    message: &str,
) -> NewRecognition {
    NewRecognition {
        recognition_type,
        recipient_ids,
        points: None,
        split: None,
        award_tier: None,
        ecard_template: None,
        badge_id: None,
        visibility: Visibility::Public,
        message: message.to_owned(),
    }
}
