//! The mail for one outbox row: a subject per kind, and a plain-text and an HTML part from the
//! templates in `templates/email`, each naming the tenant and its points label.

use askama::Template;
use perksu_store::EmailDelivery;

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
        _ => (format!("{tenant}: {}", delivery.title), "/", "Open Perksu"),
    }
}

/// Renders `delivery`; `public_url` is the base of the links in it.
pub fn render(delivery: &EmailDelivery, public_url: &str) -> Result<Rendered, String> {
    // Platform-level notifications have no tenant; they still read sensibly.
    let tenant_name = delivery.tenant_name.as_deref().unwrap_or("Perksu Points");
    let label = delivery.currency_label.as_deref().unwrap_or("points");
    let (subject, path, action) = per_kind(delivery, tenant_name, label);
    let link = Some(format!("{}{path}", public_url.trim_end_matches('/')));
    let text = TextMail {
        kind: &delivery.kind,
        first_name: &delivery.first_name,
        tenant_name,
        label,
        title: &delivery.title,
        body: &delivery.body,
        link: link.clone(),
        action,
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
    }
    .render()
    .map_err(|error| format!("cannot render the HTML part: {error}"))?;
    Ok(Rendered {
        subject,
        text,
        html,
    })
}
