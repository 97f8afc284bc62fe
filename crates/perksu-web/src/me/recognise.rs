//! Recognising colleagues: the form (recipient, type, tier, group, e-card, badge, visibility,
//! points, message) and the post that creates the recognition with the same store call as
//! `POST /api/recognitions`. The lead's award form posts the same fields (see `crate::lead`).

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use perksu_domain::ecards::ECARD_TEMPLATES;
use perksu_domain::recognition::{RecognitionType, SplitMode, Visibility, MAX_GROUP_RECIPIENTS};
use perksu_domain::{validate, Error, Role};
use perksu_store::{NewRecognition, RecognitionRow};
use serde::Deserialize;

use super::{chrome, funding_words, Area, Member, People};
use crate::format::points;
use crate::forms::{optional_amount, run_movement, CsrfForm};
use crate::listing::query;
use crate::page::{pages, redirect_with_flash, render, Chrome, Failure, PageError};
use crate::session::{random_token, Viewer};
use crate::WebState;

const PAGE: &str = "/me/recognise";
/// The most colleagues one group award may name, for the form's hint.
pub const MAX_GROUP: usize = MAX_GROUP_RECIPIENTS;
/// Where a recognition made here is shown.
const AFTER: &str = "/me/feed";

/// The recognise form as typed, kept so a refused form shows it again.
#[derive(Clone, Default)]
pub struct RecognitionFields {
    pub recognition_type: String,
    pub to_user_id: String,
    /// Every ticked group recipient (the field is repeated).
    pub recipient_ids: Vec<String>,
    pub split: String,
    pub award_tier: String,
    pub ecard_template: String,
    pub badge_id: String,
    pub visibility: String,
    pub points: String,
    pub message: String,
    pub form_key: String,
}

impl RecognitionFields {
    /// The fields of a posted form; unknown fields are ignored.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> RecognitionFields {
        let mut fields = RecognitionFields::default();
        for (name, value) in pairs {
            match name.as_str() {
                "recognition_type" => fields.recognition_type = value,
                "to_user_id" => fields.to_user_id = value,
                "recipient_ids" if !value.trim().is_empty() => {
                    fields.recipient_ids.push(value.trim().to_owned())
                }
                "split" => fields.split = value,
                "award_tier" => fields.award_tier = value,
                "ecard_template" => fields.ecard_template = value,
                "badge_id" => fields.badge_id = value,
                "visibility" => fields.visibility = value,
                "points" => fields.points = value,
                "message" => fields.message = value,
                "form_key" => fields.form_key = value,
                _ => {}
            }
        }
        fields
    }

    /// What identifies this request for the double-submit guard.
    fn fingerprint(&self, path: &str) -> String {
        format!(
            "POST {path}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.recognition_type.trim(),
            self.to_user_id.trim(),
            self.recipient_ids.join(","),
            self.split.trim(),
            self.award_tier.trim(),
            self.ecard_template.trim(),
            self.badge_id.trim(),
            self.visibility.trim(),
            self.points.trim(),
            self.message.trim(),
        )
    }
}

fn refused(message: &str) -> Error {
    Error::invalid("invalid_field", message.to_owned())
}

/// The form read the way `POST /api/recognitions` reads its body. Fields that do not belong
/// to the chosen type (a tier on a plain recognition, say) are ignored, since a form without
/// scripts shows them all at once.
pub fn parse_recognition(form: &RecognitionFields) -> Result<NewRecognition, Error> {
    let word = form.recognition_type.trim();
    let recognition_type = if word.is_empty() {
        RecognitionType::Standard
    } else {
        RecognitionType::parse(word).ok_or_else(|| {
            refused("Choose a type: a recognition, an e-card, an award or a group award")
        })?
    };
    let recipient_ids = if recognition_type == RecognitionType::GroupAward {
        if form.recipient_ids.len() < 2 {
            return Err(refused(
                "Tick at least two colleagues to receive the group award",
            ));
        }
        if form.recipient_ids.len() > MAX_GROUP_RECIPIENTS {
            return Err(refused(&format!(
                "A group award can go to at most {MAX_GROUP_RECIPIENTS} colleagues"
            )));
        }
        form.recipient_ids.clone()
    } else {
        let one = form.to_user_id.trim();
        if one.is_empty() {
            return Err(refused("Choose the colleague you are recognising"));
        }
        vec![one.to_owned()]
    };
    let points = optional_amount("Points", &form.points)?;
    let split = if recognition_type == RecognitionType::GroupAward {
        let word = form.split.trim();
        Some(if word.is_empty() {
            SplitMode::Equal
        } else {
            SplitMode::parse(word).ok_or_else(|| {
                refused("Choose how the points are shared: split equally, or each gets the amount")
            })?
        })
    } else {
        None
    };
    let award_tier = if recognition_type == RecognitionType::IndividualAward {
        let tier = form.award_tier.trim();
        if tier.is_empty() {
            return Err(refused("Choose an award tier"));
        }
        Some(tier.to_owned())
    } else {
        None
    };
    let ecard_template = if recognition_type == RecognitionType::Ecard {
        let template = form.ecard_template.trim();
        if template.is_empty() {
            return Err(refused("Choose an e-card design"));
        }
        Some(template.to_owned())
    } else {
        None
    };
    let badge = form.badge_id.trim();
    let visibility = match form.visibility.trim() {
        "" => Visibility::Public,
        word => Visibility::parse(word).ok_or_else(|| {
            refused("Choose who sees it: everyone, only the people involved, or your department")
        })?,
    };
    Ok(NewRecognition {
        recognition_type,
        recipient_ids,
        points,
        split,
        award_tier,
        ecard_template,
        badge_id: (!badge.is_empty()).then(|| badge.to_owned()),
        visibility,
        message: validate::text("Message", &form.message)?,
    })
}

/// `a`, `a and b`, `a, b and c`.
fn names_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// What the giver is told after a recognition.
fn success_message(row: &RecognitionRow, people: &People, label: &str) -> String {
    let names: Vec<String> = row
        .recipients
        .iter()
        .map(|r| people.name(&r.user_id))
        .collect();
    let names = names_list(&names);
    let what = match row.recognition_type.as_str() {
        "ecard" => format!("You sent {names} an e-card"),
        "individual_award" => format!(
            "You gave {names} the {} award",
            row.award_tier.as_deref().unwrap_or_default()
        ),
        "group_award" => format!("You gave {names} a group award"),
        _ => format!("You recognised {names}"),
    };
    if row.points.is_zero() {
        format!("{what}.")
    } else {
        format!(
            "{what} worth {} {label}, paid from {}.",
            points(row.points),
            funding_words(&row.funding_source)
        )
    }
}

/// Creates the recognition a form describes, once per form key, and words the outcome. The
/// same store call as `POST /api/recognitions`, in one transaction.
pub async fn give(
    state: &WebState,
    viewer: &Viewer,
    form: &RecognitionFields,
    path: &str,
) -> Result<String, Failure> {
    let new = parse_recognition(form)?;
    let people = People::load(state, viewer).await?;
    let tenant_id = viewer.actor.own_tenant()?;
    let label = state
        .store
        .tenant(&viewer.actor, tenant_id)
        .await?
        .currency_label;
    let actor = viewer.actor.clone();
    run_movement(
        &state.store,
        viewer,
        &form.form_key,
        &form.fingerprint(path),
        move |tx| Box::pin(async move { tx.create_recognition(&actor, new).await }),
        |row| success_message(row, &people, &label),
    )
    .await
}

/// One option of a select or radio group.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    fn new(value: &str, label: impl Into<String>, chosen: &str) -> Choice {
        Choice {
            value: value.to_owned(),
            label: label.into(),
            selected: value == chosen.trim(),
        }
    }
}

/// A colleague as an option of the recipient select and a group checkbox.
pub struct RecipientOption {
    pub id: String,
    pub label: String,
    pub selected: bool,
    pub checked: bool,
    pub in_my_team: bool,
}

/// What the form offers: colleagues, types, tiers, badges, e-cards, visibility, splits.
pub struct FormOptions {
    pub recipients: Vec<RecipientOption>,
    pub team_size: usize,
    pub types: Vec<Choice>,
    pub tiers: Vec<Choice>,
    pub badges: Vec<Choice>,
    pub ecards: Vec<Choice>,
    pub visibilities: Vec<Choice>,
    pub splits: Vec<Choice>,
    pub currency_label: String,
    /// Employees of a tenant that turned peer-to-peer points off may still say thanks.
    pub points_disabled: bool,
    pub allowance_note: Option<String>,
    pub offers_tiers: bool,
    pub offers_group: bool,
    pub offers_ecard: bool,
}

/// The options for `viewer`, with `form`'s choices marked. `lead_form` is the lead's award
/// form: an individual award or a recognition with points.
pub async fn form_options(
    state: &WebState,
    viewer: &Viewer,
    form: &RecognitionFields,
    lead_form: bool,
) -> Result<FormOptions, perksu_store::StoreError> {
    let store = &state.store;
    let tenant_id = viewer.actor.own_tenant()?;
    let tenant = store.tenant(&viewer.actor, tenant_id).await?;
    let people = People::load(state, viewer).await?;
    let badges = store.badges(&viewer.actor).await?;
    let stats = store.recognition_stats(&viewer.actor).await?;
    let label = tenant.currency_label.clone();
    let can_award = matches!(viewer.user.role, Role::Lead | Role::TenantManager);
    let chosen_type = if form.recognition_type.trim().is_empty() {
        if lead_form {
            "individual_award"
        } else {
            "standard"
        }
    } else {
        form.recognition_type.trim()
    };
    let mut types = Vec::new();
    if lead_form {
        types.push(Choice::new(
            "individual_award",
            "Award (a tier)",
            chosen_type,
        ));
        types.push(Choice::new(
            "standard",
            "Recognition with points",
            chosen_type,
        ));
    } else {
        types.push(Choice::new("standard", "Recognition", chosen_type));
        types.push(Choice::new("ecard", "E-card", chosen_type));
        if can_award {
            types.push(Choice::new(
                "individual_award",
                "Individual award",
                chosen_type,
            ));
            types.push(Choice::new("group_award", "Group award", chosen_type));
        }
    }
    let colleagues = people.colleagues(viewer);
    let team_size = colleagues.iter().filter(|c| c.in_my_team).count();
    let recipients = colleagues
        .into_iter()
        .map(|c| RecipientOption {
            selected: c.id == form.to_user_id.trim(),
            checked: form.recipient_ids.contains(&c.id),
            id: c.id,
            label: c.label,
            in_my_team: c.in_my_team,
        })
        .collect();
    let allowance_note = stats.allowance_remaining.map(|left| {
        format!(
            "You can give {} more {label} this month (your monthly allowance is {}).",
            points(left),
            stats
                .monthly_giving_allowance
                .map(points)
                .unwrap_or_default()
        )
    });
    Ok(FormOptions {
        recipients,
        team_size,
        types,
        tiers: tenant
            .award_tiers
            .iter()
            .map(|tier| {
                Choice::new(
                    &tier.name,
                    format!("{} ({} {label})", tier.name, points(tier.points)),
                    &form.award_tier,
                )
            })
            .collect(),
        badges: badges
            .iter()
            .map(|badge| Choice::new(&badge.id, badge.name.clone(), &form.badge_id))
            .collect(),
        ecards: ECARD_TEMPLATES
            .iter()
            .map(|t| Choice::new(t.id, t.title, &form.ecard_template))
            .collect(),
        visibilities: [
            ("public", "Everyone in the company"),
            ("department", "My department and the people involved"),
            ("private", "Only the people involved"),
        ]
        .into_iter()
        .map(|(value, text)| {
            let chosen = if form.visibility.trim().is_empty() {
                "public"
            } else {
                form.visibility.trim()
            };
            Choice::new(value, text, chosen)
        })
        .collect(),
        splits: [
            ("equal", "Split the points equally"),
            ("each", "Each colleague gets the points"),
        ]
        .into_iter()
        .map(|(value, text)| {
            let chosen = if form.split.trim().is_empty() {
                "equal"
            } else {
                form.split.trim()
            };
            Choice::new(value, text, chosen)
        })
        .collect(),
        currency_label: label,
        points_disabled: viewer.user.role == Role::Employee && !tenant.peer_to_peer_enabled,
        allowance_note,
        offers_tiers: lead_form || can_award,
        offers_group: !lead_form && can_award,
        offers_ecard: !lead_form,
    })
}

#[derive(Template)]
#[template(path = "me/recognise.html")]
struct RecognisePage {
    chrome: Chrome,
    form: RecognitionFields,
    error: Option<String>,
    options: FormOptions,
}

pages!(RecognisePage);

async fn page(
    state: &WebState,
    viewer: &Viewer,
    mut form: RecognitionFields,
    error: Option<String>,
) -> Result<RecognisePage, PageError> {
    let options = form_options(state, viewer, &form, false)
        .await
        .map_err(|e| PageError::from_store(e, chrome(viewer, Area::Recognise)))?;
    form.form_key = random_token();
    Ok(RecognisePage {
        chrome: chrome(viewer, Area::Recognise),
        form,
        error,
        options,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RecogniseQuery {
    /// A colleague to preselect.
    to: String,
}

pub async fn show(
    State(state): State<WebState>,
    Member(viewer): Member,
    raw: RawQuery,
) -> Result<Response, PageError> {
    let wanted: RecogniseQuery = query(raw)?;
    let form = RecognitionFields {
        to_user_id: wanted.to,
        ..RecognitionFields::default()
    };
    let page = page(&state, &viewer, form, None).await?;
    Ok(render(StatusCode::OK, &page))
}

pub async fn create(
    State(state): State<WebState>,
    Member(viewer): Member,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let form = RecognitionFields::from_pairs(pairs);
    match give(&state, &viewer, &form, PAGE).await {
        Ok(message) => Ok(redirect_with_flash(AFTER, &message)),
        Err(Failure::Refused(refusal)) => {
            let page = page(&state, &viewer, form, Some(refusal.message)).await?;
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> RecognitionFields {
        RecognitionFields::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_plain_recognition_ignores_the_fields_of_other_types() {
        let new = parse_recognition(&form(&[
            ("recognition_type", "standard"),
            ("to_user_id", "u1"),
            ("recipient_ids", "u2"),
            ("award_tier", "Gold"),
            ("ecard_template", "thank_you"),
            ("split", "each"),
            ("points", "25"),
            ("message", " Thanks "),
        ]))
        .map_err(|e| e.detail);
        let new = match new {
            Ok(new) => new,
            Err(detail) => panic!("refused: {detail}"),
        };
        assert_eq!(new.recipient_ids, vec!["u1".to_owned()]);
        assert!(new.award_tier.is_none() && new.ecard_template.is_none() && new.split.is_none());
        assert_eq!(new.points.map(|p| p.to_string()).as_deref(), Some("25"));
        assert_eq!(new.message, "Thanks");
        assert_eq!(new.visibility, Visibility::Public);
    }

    #[test]
    fn a_group_award_takes_the_ticked_colleagues() {
        let parsed = parse_recognition(&form(&[
            ("recognition_type", "group_award"),
            ("to_user_id", ""),
            ("recipient_ids", "a"),
            ("recipient_ids", "b"),
            ("points", "10"),
            ("message", "Team"),
        ]));
        let new = parsed.map_err(|e| e.detail);
        assert_eq!(
            new.as_ref().map(|n| n.recipient_ids.clone()).ok(),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(new.ok().and_then(|n| n.split), Some(SplitMode::Equal));
        let one = parse_recognition(&form(&[
            ("recognition_type", "group_award"),
            ("recipient_ids", "a"),
            ("message", "Team"),
        ]));
        assert!(one.is_err_and(|e| e.detail.contains("at least two")));
    }

    #[test]
    fn missing_choices_are_named_in_plain_words() {
        let detail = |pairs: &[(&str, &str)]| {
            parse_recognition(&form(pairs))
                .err()
                .map(|e| e.detail)
                .unwrap_or_default()
        };
        assert!(detail(&[("message", "Hi")]).contains("Choose the colleague"));
        assert!(detail(&[("to_user_id", "u"), ("message", " ")]).contains("Message"));
        assert!(detail(&[
            ("recognition_type", "individual_award"),
            ("to_user_id", "u"),
            ("message", "Hi")
        ])
        .contains("award tier"));
        assert!(
            detail(&[("to_user_id", "u"), ("points", "-3"), ("message", "Hi")])
                .contains("must not be negative")
        );
    }

    #[test]
    fn names_read_as_a_list() {
        let names =
            |list: &[&str]| names_list(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(names(&["A"]), "A");
        assert_eq!(names(&["A", "B"]), "A and B");
        assert_eq!(names(&["A", "B", "C"]), "A, B and C");
    }
}
