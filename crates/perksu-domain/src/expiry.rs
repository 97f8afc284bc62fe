//! Expiry policies: which part of a balance has been held longer than its tenant's period.
//!
//! Spending takes the oldest points first (first in, first out). So the points of a balance
//! that arrived within the period are at most what arrived within it, and whatever the balance
//! holds above that is older than the period: that part expires. What is left of each recent
//! arrival ("lot") follows the same way: the spending beyond the old part ate the oldest lots.
//! Nothing here knows about time; the store decides which arrivals are recent.

use crate::error::Error;
use crate::points::Points;

/// The longest expiry period a tenant may set: ten years.
pub const MAX_EXPIRY_DAYS: i64 = 3650;
/// The longest warning window: one year.
pub const MAX_EXPIRY_WARNING_DAYS: i64 = 365;
/// How many days before wallet points expire their owner is warned, unless the tenant says.
pub const DEFAULT_EXPIRY_WARNING_DAYS: i64 = 7;

/// The part of `balance` older than the period, given the points that arrived within it.
pub fn expired_part(balance: Points, arrived_within_period: Points) -> Points {
    balance
        .checked_sub(arrived_within_period)
        .unwrap_or(Points::ZERO)
}

/// What is left of each recent lot (oldest first) in a balance that holds no old points any
/// more: spending ate the oldest lots first, so the shortfall is taken from the front.
pub fn remaining_lots(balance: Points, lots_oldest_first: &[Points]) -> Vec<Points> {
    let arrived = lots_oldest_first
        .iter()
        .fold(0_i64, |sum, lot| sum.saturating_add(lot.hundredths()));
    let mut spent = arrived.saturating_sub(balance.hundredths()).max(0);
    lots_oldest_first
        .iter()
        .map(|lot| {
            let eaten = spent.min(lot.hundredths());
            spent -= eaten;
            Points::from_hundredths(lot.hundredths() - eaten)
        })
        .collect()
}

/// An expiry period in days, as a tenant sets it: 1 to [`MAX_EXPIRY_DAYS`].
pub fn expiry_days(field: &str, days: i64) -> Result<i64, Error> {
    if !(1..=MAX_EXPIRY_DAYS).contains(&days) {
        return Err(Error::invalid(
            "invalid_field",
            format!("{field} must be 1 to {MAX_EXPIRY_DAYS} days, or null for never"),
        ));
    }
    Ok(days)
}

/// How many days ahead to warn: 0 (never warn) to [`MAX_EXPIRY_WARNING_DAYS`].
pub fn warning_days(field: &str, days: i64) -> Result<i64, Error> {
    if !(0..=MAX_EXPIRY_WARNING_DAYS).contains(&days) {
        return Err(Error::invalid(
            "invalid_field",
            format!("{field} must be 0 to {MAX_EXPIRY_WARNING_DAYS} days"),
        ));
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn points(whole: i64) -> Points {
        Points::from_whole(whole)
    }

    #[test]
    fn only_what_the_balance_holds_beyond_recent_arrivals_expires() {
        assert_eq!(expired_part(points(100), points(30)), points(70));
        assert_eq!(expired_part(points(30), points(100)), Points::ZERO);
        assert_eq!(expired_part(points(0), points(0)), Points::ZERO);
    }

    #[test]
    fn spending_eats_the_oldest_recent_lots_first() {
        let lots = [points(50), points(30), points(20)];
        assert_eq!(
            remaining_lots(points(40), &lots),
            vec![Points::ZERO, points(20), points(20)]
        );
        assert_eq!(remaining_lots(points(100), &lots), lots.to_vec());
        assert_eq!(remaining_lots(Points::ZERO, &lots), vec![Points::ZERO; 3]);
    }

    #[test]
    fn policy_days_outside_their_ranges_are_refused() {
        assert!(expiry_days("pool_expiry_days", 0).is_err());
        assert!(expiry_days("pool_expiry_days", MAX_EXPIRY_DAYS + 1).is_err());
        assert_eq!(expiry_days("pool_expiry_days", 90), Ok(90));
        assert!(warning_days("wallet_expiry_warning_days", -1).is_err());
        assert_eq!(warning_days("wallet_expiry_warning_days", 0), Ok(0));
    }

    proptest! {
        #[test]
        fn what_remains_of_the_lots_never_exceeds_them_and_sums_to_the_recent_part(
            balance in 0_i64..10_000_000,
            lots in proptest::collection::vec(1_i64..1_000_000, 0..20),
        ) {
            let lots: Vec<Points> = lots.into_iter().map(Points::from_hundredths).collect();
            let arrived: i64 = lots.iter().map(|lot| lot.hundredths()).sum();
            let remaining = remaining_lots(Points::from_hundredths(balance), &lots);
            for (left, lot) in remaining.iter().zip(&lots) {
                prop_assert!(*left <= *lot);
            }
            let kept: i64 = remaining.iter().map(|lot| lot.hundredths()).sum();
            prop_assert_eq!(kept, balance.min(arrived));
            let expired = expired_part(Points::from_hundredths(balance), Points::from_hundredths(arrived));
            prop_assert_eq!(kept + expired.hundredths(), balance);
        }
    }
}
