//! The e-card templates a recognition of type `ecard` may use: a fixed list, the same for every
//! tenant.

/// One e-card design: its stable id and the title shown on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EcardTemplate {
    pub id: &'static str,
    pub title: &'static str,
}

/// Every template, in the order a picker shows them.
pub const ECARD_TEMPLATES: &[EcardTemplate] = &[
    EcardTemplate {
        id: "thank_you",
        title: "Thank you",
    },
    EcardTemplate {
        id: "great_job",
        title: "Great job",
    },
    EcardTemplate {
        id: "congratulations",
        title: "Congratulations",
    },
    EcardTemplate {
        id: "welcome",
        title: "Welcome aboard",
    },
    EcardTemplate {
        id: "happy_birthday",
        title: "Happy birthday",
    },
    EcardTemplate {
        id: "work_anniversary",
        title: "Happy work anniversary",
    },
];

/// The template with this id, if there is one.
pub fn ecard_template(id: &str) -> Option<&'static EcardTemplate> {
    ECARD_TEMPLATES.iter().find(|template| template.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_found_by_id_and_ids_are_unique() {
        assert_eq!(
            ecard_template("thank_you").map(|t| t.title),
            Some("Thank you")
        );
        assert!(ecard_template("Thank_You").is_none());
        assert!(ecard_template("").is_none());
        for (i, template) in ECARD_TEMPLATES.iter().enumerate() {
            assert!(ECARD_TEMPLATES[i + 1..].iter().all(|t| t.id != template.id));
            assert_eq!(ecard_template(template.id), Some(template));
        }
    }
}
