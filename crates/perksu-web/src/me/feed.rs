//! The tenant's feed and one recognition with its comments, and the small forms that react
//! and comment: the same store calls as `GET /api/feed`, `GET /api/recognitions/{id}`,
//! `POST|DELETE /api/recognitions/{id}/reactions` and `POST /api/recognitions/{id}/comments`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use perksu_domain::ecards::ecard_template;
use perksu_domain::validate;
use perksu_store::{ReactionCounts, RecognitionView, StoreResult, REACTION_KINDS};
use serde::Deserialize;

use super::{chrome, type_words, Area, BadgeLabel, Member, People};
use crate::format::{points, when};
use crate::forms::{run_write, CsrfForm};
use crate::listing::query;
use crate::page::{pages, redirect_with_flash, render, see_other, Chrome, Failure, PageError};
use crate::session::Viewer;
use crate::WebState;

/// Feed items on one page.
const FEED_PAGE: i64 = 20;
/// Comments shown under a recognition (the store's most per call).
const MAX_COMMENTS: i64 = 200;

/// One reaction button: a tiny form of its own.
pub struct ReactionButton {
    pub kind: &'static str,
    pub label: &'static str,
    pub symbol: &'static str,
    pub count: i64,
    /// The viewer reacted with this kind: the button takes it back.
    pub mine: bool,
}

fn reaction_label(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "like" => ("Like", "👍"),
        "clap" => ("Clap", "👏"),
        "celebrate" => ("Celebrate", "🎉"),
        "heart" => ("Heart", "❤️"),
        _ => ("Insightful", "💡"),
    }
}

fn count_of(counts: &ReactionCounts, kind: &str) -> i64 {
    match kind {
        "like" => counts.like,
        "clap" => counts.clap,
        "celebrate" => counts.celebrate,
        "heart" => counts.heart,
        "insightful" => counts.insightful,
        _ => 0,
    }
}

pub struct RecipientLine {
    pub name: String,
    pub points: String,
    pub has_points: bool,
}

/// A recognition as the feed and its own page show it.
pub struct RecognitionCard {
    pub id: String,
    pub giver: String,
    pub recipients: Vec<RecipientLine>,
    pub total: String,
    pub has_points: bool,
    pub currency_label: String,
    pub message: String,
    pub kind: &'static str,
    pub award_tier: Option<String>,
    pub ecard: Option<&'static str>,
    pub badge: Option<BadgeLabel>,
    pub visibility: &'static str,
    pub when: String,
    pub reactions: Vec<ReactionButton>,
    pub comment_count: i64,
    /// Where the reaction forms send the viewer back to.
    pub return_to: String,
}

/// What naming a recognition needs: people, badges and the points label.
struct Names {
    people: People,
    badges: HashMap<String, BadgeLabel>,
    currency_label: String,
}

impl Names {
    async fn load(state: &WebState, viewer: &Viewer) -> StoreResult<Names> {
        let people = People::load(state, viewer).await?;
        let badges = state.store.badges(&viewer.actor).await?;
        let tenant_id = viewer.actor.own_tenant()?;
        let tenant = state.store.tenant(&viewer.actor, tenant_id).await?;
        Ok(Names {
            people,
            badges: badges
                .iter()
                .map(|b| (b.id.clone(), BadgeLabel::from(b)))
                .collect(),
            currency_label: tenant.currency_label,
        })
    }

    fn card(&self, view: &RecognitionView, return_to: String) -> RecognitionCard {
        RecognitionCard {
            id: view.id.clone(),
            giver: self.people.name(&view.from_user_id),
            recipients: view
                .recipients
                .iter()
                .map(|share| RecipientLine {
                    name: self.people.name(&share.user_id),
                    points: points(share.points),
                    has_points: !share.points.is_zero(),
                })
                .collect(),
            total: points(view.points),
            has_points: !view.points.is_zero(),
            currency_label: self.currency_label.clone(),
            message: view.message.clone(),
            kind: type_words(&view.recognition_type),
            award_tier: view.award_tier.clone(),
            ecard: view
                .ecard_template
                .as_deref()
                .and_then(ecard_template)
                .map(|t| t.title),
            badge: view.badge_id.as_ref().and_then(|id| {
                self.badges.get(id).map(|b| BadgeLabel {
                    id: b.id.clone(),
                    name: b.name.clone(),
                    symbol: b.symbol,
                    description: b.description.clone(),
                })
            }),
            visibility: match view.visibility.as_str() {
                "private" => "Only the people involved",
                "department" => "Department",
                _ => "Everyone",
            },
            when: when(&view.created_at),
            reactions: REACTION_KINDS
                .iter()
                .map(|kind| {
                    let (label, symbol) = reaction_label(kind);
                    ReactionButton {
                        kind,
                        label,
                        symbol,
                        count: count_of(&view.reactions, kind),
                        mine: view.my_reactions.iter().any(|mine| mine == kind),
                    }
                })
                .collect(),
            comment_count: view.comment_count,
            return_to,
        }
    }
}

/// One feed entry: a recognition or award with its card, or a milestone.
struct FeedEntry {
    title: String,
    when: String,
    card: Option<RecognitionCard>,
}

#[derive(Template)]
#[template(path = "me/feed.html")]
struct FeedPage {
    chrome: Chrome,
    entries: Vec<FeedEntry>,
    newer: Option<String>,
    older: Option<String>,
}

#[derive(Template)]
#[template(path = "me/recognition.html")]
struct RecognitionPage {
    chrome: Chrome,
    card: RecognitionCard,
    comments: Vec<CommentLine>,
    comment_body: String,
    comment_error: Option<String>,
    reaction_error: Option<String>,
}

pages!(FeedPage, RecognitionPage);

struct CommentLine {
    author: String,
    body: String,
    when: String,
    mine: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FeedQuery {
    offset: String,
}

fn feed_link(offset: i64) -> String {
    if offset > 0 {
        format!("/me/feed?offset={offset}")
    } else {
        "/me/feed".to_owned()
    }
}

pub async fn show(
    State(state): State<WebState>,
    Member(viewer): Member,
    raw: RawQuery,
) -> Result<Response, PageError> {
    let wanted: FeedQuery = query(raw)?;
    let offset = wanted.offset.trim().parse::<i64>().unwrap_or(0).max(0);
    let chrome = || chrome(&viewer, Area::Feed);
    let names = Names::load(&state, &viewer)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    // One more than shown, to know whether there is an older page.
    let mut items = state
        .store
        .feed(&viewer.actor, FEED_PAGE + 1, offset)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let has_older = items.len() as i64 > FEED_PAGE;
    items.truncate(FEED_PAGE as usize);
    let here = feed_link(offset);
    let entries = items
        .iter()
        .map(|item| FeedEntry {
            title: item.title.clone(),
            when: when(&item.created_at),
            card: item
                .recognition
                .as_ref()
                .map(|view| names.card(view, format!("{here}#r-{}", view.id))),
        })
        .collect();
    let page = FeedPage {
        chrome: chrome(),
        entries,
        newer: (offset > 0).then(|| feed_link((offset - FEED_PAGE).max(0))),
        older: has_older.then(|| feed_link(offset + FEED_PAGE)),
    };
    Ok(render(StatusCode::OK, &page))
}

fn recognition_path(id: &str) -> String {
    format!("/me/recognitions/{id}")
}

/// The recognition page, with a refused form's input and message when there is one.
async fn recognition_page(
    state: &WebState,
    viewer: &Viewer,
    id: &str,
    comment_body: String,
    comment_error: Option<String>,
    reaction_error: Option<String>,
) -> Result<RecognitionPage, PageError> {
    let chrome = || chrome(viewer, Area::Feed);
    let store = &state.store;
    let view = store
        .recognition_view(&viewer.actor, id)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let names = Names::load(state, viewer)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let comments = store
        .comments(&viewer.actor, id, MAX_COMMENTS, 0)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    Ok(RecognitionPage {
        chrome: chrome(),
        card: names.card(&view, recognition_path(&view.id)),
        comments: comments
            .into_iter()
            .map(|c| CommentLine {
                mine: c.user_id == viewer.user.id,
                author: c.author_name,
                body: c.body,
                when: when(&c.created_at),
            })
            .collect(),
        comment_body,
        comment_error,
        reaction_error,
    })
}

pub async fn recognition(
    State(state): State<WebState>,
    Member(viewer): Member,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let page = recognition_page(&state, &viewer, &id, String::new(), None, None).await?;
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReactionFields {
    kind: String,
    return_to: String,
}

/// Back to where the form was, if that is one of the member pages; else the recognition.
fn return_to(wanted: &str, id: &str) -> String {
    let wanted = wanted.trim();
    let safe = wanted.starts_with("/me/")
        && wanted.len() <= 300
        && !wanted.contains("//")
        && !wanted.contains('\\')
        && !wanted.chars().any(char::is_control);
    if safe {
        wanted.to_owned()
    } else {
        recognition_path(id)
    }
}

/// Adds or takes back a reaction, then goes back; a refusal shows on the recognition's page.
async fn change_reaction(
    state: WebState,
    viewer: Viewer,
    id: String,
    form: ReactionFields,
    add: bool,
) -> Result<Response, PageError> {
    let actor = viewer.actor.clone();
    let (recognition_id, kind) = (id.clone(), form.kind.trim().to_owned());
    let outcome = run_write(&state.store, move |tx| {
        Box::pin(async move {
            if add {
                tx.react(&actor, &recognition_id, &kind).await.map(|_| ())
            } else {
                tx.unreact(&actor, &recognition_id, &kind).await.map(|_| ())
            }
        })
    })
    .await;
    match outcome {
        Ok(()) => Ok(see_other(&return_to(&form.return_to, &id))),
        Err(Failure::Refused(refusal)) => {
            let page = recognition_page(
                &state,
                &viewer,
                &id,
                String::new(),
                None,
                Some(refusal.message),
            )
            .await?;
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

pub async fn react(
    State(state): State<WebState>,
    Member(viewer): Member,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ReactionFields>,
) -> Result<Response, PageError> {
    change_reaction(state, viewer, id, form, true).await
}

pub async fn unreact(
    State(state): State<WebState>,
    Member(viewer): Member,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ReactionFields>,
) -> Result<Response, PageError> {
    change_reaction(state, viewer, id, form, false).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CommentFields {
    body: String,
}

pub async fn comment(
    State(state): State<WebState>,
    Member(viewer): Member,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<CommentFields>,
) -> Result<Response, PageError> {
    let added = match validate::text("Comment", &form.body) {
        Ok(body) => {
            let actor = viewer.actor.clone();
            let recognition_id = id.clone();
            run_write(&state.store, move |tx| {
                Box::pin(async move { tx.add_comment(&actor, &recognition_id, &body).await })
            })
            .await
            .map(|_| ())
        }
        Err(error) => Err(error.into()),
    };
    match added {
        Ok(()) => Ok(redirect_with_flash(
            &format!("{}#comments", recognition_path(&id)),
            "Your comment was added.",
        )),
        Err(Failure::Refused(refusal)) => {
            let page =
                recognition_page(&state, &viewer, &id, form.body, Some(refusal.message), None)
                    .await?;
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reactions_return_only_to_member_pages() {
        assert_eq!(
            return_to("/me/feed?offset=20#r-1", "1"),
            "/me/feed?offset=20#r-1"
        );
        for bad in [
            "https://evil.test/",
            "//evil.test",
            "/admin",
            "/me/\\evil",
            "",
        ] {
            assert_eq!(return_to(bad, "abc"), "/me/recognitions/abc", "{bad}");
        }
    }
}
