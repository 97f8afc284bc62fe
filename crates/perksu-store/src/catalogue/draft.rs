//! The checks a catalogue item passes before it is written, in one place for the JSON API and
//! the manager's pages.

use perksu_domain::{validate, Error, Points};

use super::RewardDraft;

/// The kinds of reward a catalogue may hold.
pub const REWARD_KINDS: [&str; 4] = ["gift_card", "merchandise", "custom", "charity"];
/// Most denominations one gift card may offer.
pub const MAX_DENOMINATIONS: usize = 20;
/// Most units in stock a manager may record.
pub const MAX_STOCK: i64 = 1_000_000;

/// A catalogue item as the client sent it, amounts already parsed.
pub struct RewardFields<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub category: Option<&'a str>,
    pub brand: Option<&'a str>,
    pub face_value: Option<Points>,
    pub denominations: Vec<Points>,
    pub stock: Option<i64>,
    /// `None`: active.
    pub status: Option<&'a str>,
}

impl RewardDraft {
    /// Checks `fields` and makes the draft the store writes.
    pub fn new(fields: RewardFields<'_>) -> Result<RewardDraft, Error> {
        if !REWARD_KINDS.contains(&fields.kind) {
            return Err(Error::invalid(
                "invalid_field",
                format!("kind must be one of: {}", REWARD_KINDS.join(", ")),
            ));
        }
        let mut denominations = fields.denominations;
        denominations.sort();
        denominations.dedup();
        // Exactly one of the two, so a price is never ambiguous.
        let both_or_neither = fields.face_value.is_some() != denominations.is_empty();
        if both_or_neither || denominations.len() > MAX_DENOMINATIONS {
            return Err(Error::invalid(
                "invalid_field",
                format!("give either face_value or up to {MAX_DENOMINATIONS} denominations"),
            ));
        }
        if fields.kind == "merchandise" && fields.stock.is_none() {
            return Err(Error::invalid(
                "invalid_field",
                "merchandise needs a stock count",
            ));
        }
        if fields
            .stock
            .is_some_and(|stock| !(0..=MAX_STOCK).contains(&stock))
        {
            return Err(Error::invalid(
                "invalid_field",
                format!("stock must be 0 to {MAX_STOCK}"),
            ));
        }
        let status = fields.status.unwrap_or("active");
        if status != "active" && status != "archived" {
            return Err(Error::invalid(
                "invalid_field",
                "status must be active or archived",
            ));
        }
        Ok(RewardDraft {
            kind: fields.kind.to_owned(),
            name: validate::name("name", fields.name)?,
            description: validate::note("description", fields.description)?,
            category: validate::note("category", fields.category)?,
            brand: validate::note("brand", fields.brand)?,
            face_value: fields.face_value,
            denominations,
            stock: fields.stock,
            status: status.to_owned(),
        })
    }
}
