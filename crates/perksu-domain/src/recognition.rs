//! Recognition programs: the kinds of recognition, who sees them, and how a group award is
//! split. See docs/PROGRAMS.md.

use crate::error::Error;
use crate::points::Points;
use crate::roles::word_enum;

word_enum!(
    /// What kind of recognition it is.
    RecognitionType {
        Standard => "standard",
        IndividualAward => "individual_award",
        GroupAward => "group_award",
        Ecard => "ecard",
    }
);

impl RecognitionType {
    /// Awards are given by leads and tenant managers only.
    pub fn is_award(self) -> bool {
        matches!(
            self,
            RecognitionType::IndividualAward | RecognitionType::GroupAward
        )
    }
}

word_enum!(
    /// Who sees a recognition: everyone in the tenant, only the giver and recipients, or also
    /// the giver's department.
    Visibility {
        Public => "public",
        Private => "private",
        Department => "department",
    }
);

word_enum!(
    /// How a group award's points are read: a total shared equally, or an amount for each.
    SplitMode {
        Equal => "equal",
        Each => "each",
    }
);

/// The most recipients one group award may have.
pub const MAX_GROUP_RECIPIENTS: usize = 50;

/// Each recipient's share of a group award, in the order the recipients were given.
///
/// An equal split gives everyone ⌊total / n⌋ hundredths and one more hundredth to each of the
/// first `total mod n` recipients, so the shares add up to the total exactly.
pub fn split_shares(
    mode: SplitMode,
    points: Points,
    recipients: usize,
) -> Result<Vec<Points>, Error> {
    let count = i64::try_from(recipients)
        .ok()
        .filter(|count| *count > 0)
        .ok_or_else(|| Error::invalid("invalid_recipients", "at least one recipient is needed"))?;
    match mode {
        SplitMode::Each => {
            points
                .hundredths()
                .checked_mul(count)
                .filter(|total| *total <= Points::MAX.hundredths())
                .ok_or_else(Error::balance_overflow)?;
            Ok(vec![points; recipients])
        }
        SplitMode::Equal => {
            let total = points.hundredths();
            let base = total / count;
            let remainder = total % count;
            if base == 0 {
                return Err(Error::invalid(
                    "split_too_small",
                    format!(
                        "{points} points cannot be split across {recipients} recipients: \
                         each share would be below 0.01"
                    ),
                ));
            }
            Ok((0..count)
                .map(|position| Points::from_hundredths(base + i64::from(position < remainder)))
                .collect())
        }
    }
}

/// A named award level with its amount, e.g. Gold 5000.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwardTier {
    pub name: String,
    pub points: Points,
}

/// The most tiers a tenant may define.
pub const MAX_AWARD_TIERS: usize = 10;

/// Checks a tenant's award tiers: 1 to 10, names 1 to 40 characters and unique (ignoring case),
/// amounts above zero.
pub fn validate_award_tiers(tiers: &[AwardTier]) -> Result<(), Error> {
    if tiers.is_empty() || tiers.len() > MAX_AWARD_TIERS {
        return Err(Error::invalid(
            "invalid_award_tiers",
            format!("award_tiers must have 1 to {MAX_AWARD_TIERS} tiers"),
        ));
    }
    let mut names = std::collections::HashSet::new();
    for tier in tiers {
        let name = tier.name.trim();
        if name.is_empty() || name.chars().count() > 40 {
            return Err(Error::invalid(
                "invalid_award_tiers",
                "each award tier needs a name of 1 to 40 characters",
            ));
        }
        if !names.insert(name.to_lowercase()) {
            return Err(Error::invalid(
                "invalid_award_tiers",
                format!("the award tier name {name:?} is used twice"),
            ));
        }
        if tier.points <= Points::ZERO {
            return Err(Error::invalid(
                "invalid_award_tiers",
                format!("the award tier {name:?} needs points above zero"),
            ));
        }
    }
    Ok(())
}

/// The calendar month (UTC) of an RFC 3339 timestamp, `YYYY-MM`: the key of monthly caps and
/// allowances.
pub fn month_of(rfc3339: &str) -> &str {
    rfc3339.get(..7).unwrap_or(rfc3339)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Points {
        Points::parse(text).expect("a valid amount")
    }

    #[test]
    fn an_equal_split_gives_the_remainder_to_the_first_recipients_and_keeps_the_total() {
        let shares = split_shares(SplitMode::Equal, p("100"), 3).expect("splits");
        assert_eq!(shares, vec![p("33.34"), p("33.33"), p("33.33")]);
        let shares = split_shares(SplitMode::Equal, p("0.05"), 3).expect("splits");
        assert_eq!(shares, vec![p("0.02"), p("0.02"), p("0.01")]);
    }

    #[test]
    fn an_equal_split_below_one_hundredth_each_is_refused() {
        let refused = split_shares(SplitMode::Equal, p("0.02"), 3).expect_err("too small");
        assert_eq!(refused.code, "split_too_small");
    }

    #[test]
    fn each_gives_every_recipient_the_amount() {
        let shares = split_shares(SplitMode::Each, p("10"), 4).expect("splits");
        assert_eq!(shares, vec![p("10"); 4]);
    }
}
