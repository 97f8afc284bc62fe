//! The reward form's fields as typed, the draft they make through the store's checks, and the
//! price preview: what an employee would pay in points for each face value.

use perksu_domain::{rewards, Error, Points};
use perksu_store::{PricedReward, RewardDraft, RewardFields, TenantRow};
use serde::Deserialize;

use crate::format::points;
use crate::forms::{non_negative_amount, optional_whole_number, positive_amount};

/// The form's fields as typed; `action` is `preview` or `save`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RewardForm {
    pub kind: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub brand: String,
    pub face_value: String,
    pub denominations: String,
    pub stock: String,
    pub status: String,
    pub markup_percent: String,
    pub action: String,
}

fn percent(markup_bp: i64) -> String {
    Points::from_hundredths(markup_bp).to_string()
}

impl RewardForm {
    pub fn blank(tenant: &TenantRow) -> RewardForm {
        RewardForm {
            kind: "custom".into(),
            status: "active".into(),
            markup_percent: percent(tenant.redemption_markup_bp),
            ..RewardForm::default()
        }
    }

    pub fn of(priced: &PricedReward, tenant: &TenantRow) -> RewardForm {
        let item = &priced.item;
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        RewardForm {
            kind: item.kind.clone(),
            name: item.name.clone(),
            description: text(&item.description),
            category: text(&item.category),
            brand: text(&item.brand),
            face_value: item.face_value.map(|v| v.to_string()).unwrap_or_default(),
            denominations: item
                .denominations
                .iter()
                .map(Points::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            stock: item.stock.map(|s| s.to_string()).unwrap_or_default(),
            status: item.status.clone(),
            markup_percent: percent(tenant.redemption_markup_bp),
            action: String::new(),
        }
    }

    pub fn markup_bp(&self) -> Result<i64, Error> {
        let markup = non_negative_amount("Markup", &self.markup_percent)?;
        rewards::markup_bp("Markup", markup)
    }

    /// The cost and the denominations as typed; the store decides which one a reward has.
    fn face_values(&self) -> Result<(Option<Points>, Vec<Points>), Error> {
        let face_value = Some(self.face_value.as_str())
            .filter(|v| !v.trim().is_empty())
            .map(|v| positive_amount("Face value", v))
            .transpose()?;
        let denominations = self
            .denominations
            .split(',')
            .filter(|v| !v.trim().is_empty())
            .map(|v| positive_amount("Each denomination", v))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((face_value, denominations))
    }

    /// The draft the store checks, through the same rules as the API's.
    pub fn draft(&self) -> Result<RewardDraft, Error> {
        let optional = |text: &str| Some(text.to_owned()).filter(|t| !t.trim().is_empty());
        let (face_value, denominations) = self.face_values()?;
        let (description, category, brand) = (
            optional(&self.description),
            optional(&self.category),
            optional(&self.brand),
        );
        RewardDraft::new(RewardFields {
            kind: &self.kind,
            name: &self.name,
            description: description.as_deref(),
            category: category.as_deref(),
            brand: brand.as_deref(),
            face_value,
            denominations,
            stock: optional_whole_number("Stock", &self.stock)?,
            status: Some(self.status.as_str()).filter(|s| !s.is_empty()),
        })
    }
}

/// What one face value costs an employee in points under the typed markup.
pub struct PricePreview {
    pub face_value: String,
    pub points: String,
}

pub fn preview(
    tenant: &TenantRow,
    form: &RewardForm,
) -> Result<(Vec<PricePreview>, String), Error> {
    let markup_bp = form.markup_bp()?;
    // Only the price is previewed: the other fields are checked when the reward is saved.
    let values = match form.face_values()? {
        (Some(value), _) => vec![value],
        (None, denominations) if !denominations.is_empty() => denominations,
        _ => {
            return Err(Error::invalid(
                "invalid_field",
                "Give a cost or denominations to preview the price",
            ))
        }
    };
    let lines = values
        .into_iter()
        .map(|value| {
            rewards::price(value, tenant.points_per_currency_unit, markup_bp, 1).map(|price| {
                PricePreview {
                    face_value: points(value),
                    points: points(price),
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let basis = format!(
        "At {} {} per unit of {} and a markup of {} %.",
        points(tenant.points_per_currency_unit),
        tenant.currency_label,
        tenant.currency,
        percent(markup_bp)
    );
    Ok((lines, basis))
}
