//! The mail for one outbox row: a subject per kind, and a plain-text and an HTML part from the
//! templates in `templates/email`, each naming the tenant and its points label. An invitation
//! links to the set-password page with its token and says when the link expires.

use askama::Template;
use perksu_store::{readable_instant, EmailDelivery, IssuedInvitation, INVITATION_NOTIFICATION};

/// A rendered mail, ready to be addressed and sent.
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "email/mail.txt")]
struct TextMail<'a> {
    kind: &'a str,
    first_name: &'a str,
    tenant_name: &'a str,
    label: &'a str,
    title: &'a str,
    body: &'a str,
    link: Option<String>,
    action: &'a str,
    /// When an invitation's link stops working.
    expires: Option<String>,
}

#[derive(Template)]
#[template(path = "email/mail.html")]
struct HtmlMail<'a> {
    kind: &'a str,
    subject: &'a str,
    first_name: &'a str,
    tenant_name: &'a str,
    label: &'a str,
    title: &'a str,
    body: &'a str,
    link: Option<String>,
    action: &'a str,
    /// When an invitation's link stops working.
    expires: Option<String>,
}

/// The subject, the page a mail links to (under the public URL) and that link's text. Subjects
/// call the points by the tenant's own label, as the parts do.
fn per_kind(
    delivery: &EmailDelivery,
    tenant: &str,
    label: &str,
) -> (String, &'static str, &'static str) {
    match delivery.kind.as_str() {
        "recognition_received" => (
            format!("{tenant}: {}", delivery.title),
            "/me",
            "See it in Perksu",
        ),
        "low_balance" => (
            format!("{tenant}: the {label} pool is running low"),
            "/manager",
            "Open the manager pages",
        ),
        "redemption_confirmation_code" => (
            format!("{tenant}: your confirmation code"),
            "/me",
            "Open your orders",
        ),
        "redemption_status" => (
            format!("{tenant}: your reward order was updated"),
            "/me",
            "Open your orders",
        ),
        "points_expiring" => (
            format!("{tenant}: {label} expiring soon"),
            "/me",
            "Spend them in the catalogue",
        ),
        INVITATION_NOTIFICATION => (
            format!("{tenant}: you're invited to Perksu Points"),
            "/login",
            "Sign in",
        ),
        _ => (format!("{tenant}: {}", delivery.title), "/", "Open Perksu"),
    }
}

/// Renders `delivery`; `public_url` is the base of the links in it, and `invitation` the
/// token an invitation mail carries.
pub fn render(
    delivery: &EmailDelivery,
    public_url: &str,
    invitation: Option<&IssuedInvitation>,
) -> Result<Rendered, String> {
    // Platform-level notifications have no tenant; they still read sensibly.
    let tenant_name = delivery.tenant_name.as_deref().unwrap_or("Perksu Points");
    let label = delivery.currency_label.as_deref().unwrap_or("points");
    let (subject, path, action) = per_kind(delivery, tenant_name, label);
    let base = public_url.trim_end_matches('/');
    // An invitation without a token (the user has a password by now) links to sign-in.
    let (link, action) = match invitation {
        Some(invitation) => (
            format!("{base}/set-password?token={}", invitation.token),
            "Choose your password",
        ),
        None => (format!("{base}{path}"), action),
    };
    let link = Some(link);
    let expires = invitation.map(|invitation| readable_instant(&invitation.expires_at));
    let text = TextMail {
        kind: &delivery.kind,
        first_name: &delivery.first_name,
        tenant_name,
        label,
        title: &delivery.title,
        body: &delivery.body,
        link: link.clone(),
        action,
        expires: expires.clone(),
    }
    .render()
    .map_err(|error| format!("cannot render the text part: {error}"))?;
    let html = HtmlMail {
        kind: &delivery.kind,
        subject: &subject,
        first_name: &delivery.first_name,
        tenant_name,
        label,
        title: &delivery.title,
        body: &delivery.body,
        link,
        action,
        expires,
    }
    .render()
    .map_err(|error| format!("cannot render the HTML part: {error}"))?;
    Ok(Rendered {
        subject,
        text,
        html,
    })
}
