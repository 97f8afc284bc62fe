//! The tenant's settings a manager may change: the points label, the low-balance marks, award
//! tiers, peer-to-peer giving and its monthly allowance, reward pricing and redemption rules,
//! and the expiry policy. The alert webhook has its own page (`webhook.rs`).
//!
//! Only the fields whose value differs from the stored one go into the patch, so saving the
//! form unchanged re-arms no alert and changes nothing.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use perksu_domain::recognition::AwardTier;
use perksu_domain::{expiry, rewards, validate, Error, Points};
use perksu_store::{TenantPatch, TenantRow};
use serde::Deserialize;

use crate::forms::{
    non_negative_amount, optional_amount, optional_whole_number, positive_amount, run_write,
    whole_number, CsrfForm,
};
use crate::page::{pages, redirect_with_flash, render, Chrome, Failure, PageError, Section};
use crate::session::{Manager, Viewer};
use crate::WebState;

/// The form's fields as typed. Unticked boxes are absent from a post.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SettingsFields {
    currency_label: String,
    low_balance_threshold: String,
    lead_low_balance_threshold: String,
    award_tiers: String,
    peer_to_peer_enabled: Option<String>,
    monthly_giving_allowance: String,
    points_per_currency_unit: String,
    redemption_markup_percent: String,
    redemptions_paused: Option<String>,
    redemption_confirmation_required: Option<String>,
    redemption_timeout_hours: String,
    pool_expiry_days: String,
    wallet_expiry_days: String,
    wallet_expiry_warning_days: String,
}

fn ticked(value: bool) -> Option<String> {
    value.then(|| "on".to_owned())
}

impl From<&TenantRow> for SettingsFields {
    fn from(tenant: &TenantRow) -> SettingsFields {
        SettingsFields {
            currency_label: tenant.currency_label.clone(),
            low_balance_threshold: tenant.low_balance_threshold.to_string(),
            lead_low_balance_threshold: tenant
                .lead_low_balance_threshold
                .map(|p| p.to_string())
                .unwrap_or_default(),
            award_tiers: tenant
                .award_tiers
                .iter()
                .map(|tier| format!("{}: {}", tier.name, tier.points))
                .collect::<Vec<_>>()
                .join("\n"),
            peer_to_peer_enabled: ticked(tenant.peer_to_peer_enabled),
            monthly_giving_allowance: tenant
                .monthly_giving_allowance
                .map(|p| p.to_string())
                .unwrap_or_default(),
            points_per_currency_unit: tenant.points_per_currency_unit.to_string(),
            redemption_markup_percent: Points::from_hundredths(tenant.redemption_markup_bp)
                .to_string(),
            redemptions_paused: ticked(tenant.redemptions_paused),
            redemption_confirmation_required: ticked(tenant.redemption_confirmation_required),
            redemption_timeout_hours: tenant.redemption_timeout_hours.to_string(),
            pool_expiry_days: tenant
                .pool_expiry_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
            wallet_expiry_days: tenant
                .wallet_expiry_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
            wallet_expiry_warning_days: tenant.wallet_expiry_warning_days.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "manager/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    tenant_name: String,
    form: SettingsFields,
    error: Option<String>,
}

pages!(SettingsPage);

async fn current(state: &WebState, viewer: &Viewer) -> Result<TenantRow, PageError> {
    state
        .store
        .tenant_stats(&viewer.actor, None)
        .await
        .map(|stats| stats.tenant)
        .map_err(|error| PageError::from_store(error, viewer.chrome(Section::ManagerSettings)))
}

pub async fn show(
    State(state): State<WebState>,
    Manager(viewer): Manager,
) -> Result<Response, PageError> {
    let tenant = current(&state, &viewer).await?;
    Ok(render(
        StatusCode::OK,
        &SettingsPage {
            chrome: viewer.chrome(Section::ManagerSettings),
            form: SettingsFields::from(&tenant),
            tenant_name: tenant.name,
            error: None,
        },
    ))
}

pub async fn update(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    CsrfForm(form): CsrfForm<SettingsFields>,
) -> Result<Response, PageError> {
    let tenant = current(&state, &viewer).await?;
    let saved = match patch(&tenant, &form) {
        Ok(patch) => {
            let actor = viewer.actor.clone();
            let tenant_id = tenant.id.clone();
            run_write(&state.store, move |tx| {
                Box::pin(async move { tx.update_tenant(&actor, &tenant_id, patch).await })
            })
            .await
        }
        Err(error) => Err(error.into()),
    };
    match saved {
        Ok(_) => Ok(redirect_with_flash("/manager/settings", "Settings saved.")),
        Err(Failure::Refused(refusal)) => Ok(render(
            refusal.status,
            &SettingsPage {
                chrome: viewer.chrome(Section::ManagerSettings),
                tenant_name: tenant.name,
                form,
                error: Some(refusal.message),
            },
        )),
        Err(Failure::Page(error)) => Err(error),
    }
}

/// `Some(new)` when it differs from `old`, else `None`: the patch leaves it alone.
fn changed<T: PartialEq>(old: T, new: T) -> Option<T> {
    (old != new).then_some(new)
}

/// Award tiers typed one per line as `Name: points`.
fn parse_tiers(text: &str) -> Result<Vec<AwardTier>, Error> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (name, amount) = line.rsplit_once(':').ok_or_else(|| {
                Error::invalid(
                    "invalid_award_tiers",
                    format!(
                        "Write each award tier as Name: points, e.g. Gold: 5000 (not {line:?})"
                    ),
                )
            })?;
            Ok(AwardTier {
                name: name.trim().to_owned(),
                points: positive_amount(&format!("The points of tier {}", name.trim()), amount)?,
            })
        })
        .collect()
}

fn patch(tenant: &TenantRow, form: &SettingsFields) -> Result<TenantPatch, Error> {
    let markup = rewards::markup_bp(
        "Reward markup",
        non_negative_amount("Reward markup", &form.redemption_markup_percent)?,
    )?;
    let timeout_hours = whole_number("Order timeout", &form.redemption_timeout_hours)?;
    if !(1..=8760).contains(&timeout_hours) {
        return Err(Error::invalid(
            "invalid_field",
            "Order timeout must be 1 to 8760 hours",
        ));
    }
    let pool_expiry = optional_whole_number("Pool expiry", &form.pool_expiry_days)?
        .map(|days| expiry::expiry_days("Pool expiry", days))
        .transpose()?;
    let wallet_expiry = optional_whole_number("Wallet expiry", &form.wallet_expiry_days)?
        .map(|days| expiry::expiry_days("Wallet expiry", days))
        .transpose()?;
    let warning_days = expiry::warning_days(
        "Expiry warning",
        whole_number("Expiry warning", &form.wallet_expiry_warning_days)?,
    )?;
    Ok(TenantPatch {
        currency_label: changed(
            tenant.currency_label.clone(),
            validate::name("Points label", &form.currency_label)?,
        ),
        low_balance_threshold: changed(
            tenant.low_balance_threshold,
            non_negative_amount("Low-balance mark", &form.low_balance_threshold)?,
        ),
        lead_low_balance_threshold: changed(
            tenant.lead_low_balance_threshold,
            optional_amount("Lead low-balance mark", &form.lead_low_balance_threshold)?,
        ),
        award_tiers: changed(tenant.award_tiers.clone(), parse_tiers(&form.award_tiers)?),
        peer_to_peer_enabled: changed(
            tenant.peer_to_peer_enabled,
            form.peer_to_peer_enabled.is_some(),
        ),
        monthly_giving_allowance: changed(
            tenant.monthly_giving_allowance,
            optional_amount("Monthly giving allowance", &form.monthly_giving_allowance)?,
        ),
        points_per_currency_unit: changed(
            tenant.points_per_currency_unit,
            positive_amount("Points per currency unit", &form.points_per_currency_unit)?,
        ),
        redemption_markup_bp: changed(tenant.redemption_markup_bp, markup),
        redemptions_paused: changed(tenant.redemptions_paused, form.redemptions_paused.is_some()),
        redemption_confirmation_required: changed(
            tenant.redemption_confirmation_required,
            form.redemption_confirmation_required.is_some(),
        ),
        redemption_timeout_hours: changed(tenant.redemption_timeout_hours, timeout_hours),
        pool_expiry_days: changed(tenant.pool_expiry_days, pool_expiry),
        wallet_expiry_days: changed(tenant.wallet_expiry_days, wallet_expiry),
        wallet_expiry_warning_days: changed(tenant.wallet_expiry_warning_days, warning_days),
        ..TenantPatch::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_are_read_one_per_line() {
        let tiers = parse_tiers("Gold: 5000\n\n Silver : 2500.5 \n").unwrap_or_default();
        assert_eq!(tiers.len(), 2);
        assert_eq!(tiers[1].name, "Silver");
        assert_eq!(tiers[1].points, Points::from_hundredths(250050));
        assert!(parse_tiers("Gold 5000").is_err());
        assert!(parse_tiers("Gold: -5").is_err());
    }
}
