//! Rewards: what an item costs in points, and how a redemption may move between states.

use crate::error::Error;
use crate::points::Points;

/// The points a client pays for `quantity` units of face value `face_value` (hundredths of the
/// tenant's currency): value × points per currency unit × (1 + markup), rounded up to the next
/// hundredth of a point so that rounding never favours the buyer.
///
/// `points_per_unit` is in hundredths (100 = one point per currency unit); `markup_bp` is in
/// hundredths of a percent (1250 = 12.5 %).
pub fn price(
    face_value: Points,
    points_per_unit: Points,
    markup_bp: i64,
    quantity: i64,
) -> Result<Points, Error> {
    let numerator = i128::from(face_value.hundredths())
        * i128::from(points_per_unit.hundredths())
        * i128::from(10_000 + markup_bp)
        * i128::from(quantity);
    let denominator: i128 = 100 * 10_000;
    let hundredths = (numerator + denominator - 1) / denominator;
    i64::try_from(hundredths)
        .ok()
        .filter(|h| *h > 0 && *h <= Points::MAX.hundredths())
        .map(Points::from_hundredths)
        .ok_or_else(|| Error::invalid("price_out_of_range", "This order's price is out of range"))
}

/// The highest markup a tenant may add to its rewards, in hundredths of a percent (1000 %).
pub const MAX_MARKUP_BP: i64 = 100_000;

/// A markup given in percent (two decimals), as hundredths of a percent, or the refusal
/// naming `field` when it is over the limit.
pub fn markup_bp(field: &str, percent: Points) -> Result<i64, Error> {
    let bp = percent.hundredths();
    if bp > MAX_MARKUP_BP {
        return Err(Error::invalid(
            "invalid_field",
            format!("{field} must be at most 1000 percent"),
        ));
    }
    Ok(bp)
}

/// Where a redemption stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RedemptionStatus {
    /// Ordered, points on hold, waiting for the employee's confirmation code.
    PendingConfirmation,
    /// Confirmed (or no confirmation needed), waiting for fulfilment.
    Pending,
    /// A provider has accepted it.
    Processing,
    Shipped,
    /// Final: points redeemed.
    Delivered,
    /// Final, refunded: the provider could not fulfil it.
    Failed,
    /// Final, refunded: the employee cancelled before fulfilment.
    Cancelled,
    /// Final, refunded: an admin refused it.
    Rejected,
    /// Final, refunded: not fulfilled (or not confirmed) in time.
    Expired,
}

impl RedemptionStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            RedemptionStatus::PendingConfirmation => "pending_confirmation",
            RedemptionStatus::Pending => "pending",
            RedemptionStatus::Processing => "processing",
            RedemptionStatus::Shipped => "shipped",
            RedemptionStatus::Delivered => "delivered",
            RedemptionStatus::Failed => "failed",
            RedemptionStatus::Cancelled => "cancelled",
            RedemptionStatus::Rejected => "rejected",
            RedemptionStatus::Expired => "expired",
        }
    }

    /// Every status, in the lifecycle's order.
    pub const ALL: [RedemptionStatus; 9] = [
        RedemptionStatus::PendingConfirmation,
        RedemptionStatus::Pending,
        RedemptionStatus::Processing,
        RedemptionStatus::Shipped,
        RedemptionStatus::Delivered,
        RedemptionStatus::Failed,
        RedemptionStatus::Cancelled,
        RedemptionStatus::Rejected,
        RedemptionStatus::Expired,
    ];

    pub fn parse(word: &str) -> Option<RedemptionStatus> {
        RedemptionStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == word)
    }

    /// Open: the points are still on hold.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            RedemptionStatus::PendingConfirmation
                | RedemptionStatus::Pending
                | RedemptionStatus::Processing
                | RedemptionStatus::Shipped
        )
    }

    /// Final states whose points go back to the wallet.
    pub fn refunds(self) -> bool {
        matches!(
            self,
            RedemptionStatus::Failed
                | RedemptionStatus::Cancelled
                | RedemptionStatus::Rejected
                | RedemptionStatus::Expired
        )
    }

    /// The lifecycle: which moves are allowed.
    pub fn can_become(self, next: RedemptionStatus) -> bool {
        use RedemptionStatus::*;
        match (self, next) {
            (PendingConfirmation, Pending | Cancelled | Expired | Failed) => true,
            // Before fulfilment starts the employee may still cancel.
            (
                Pending,
                Processing | Shipped | Delivered | Cancelled | Rejected | Failed | Expired,
            ) => true,
            (Processing, Shipped | Delivered | Rejected | Failed | Expired) => true,
            (Shipped, Delivered | Failed) => true,
            _ => false,
        }
    }

    /// The refusal for a move the lifecycle does not allow.
    pub fn refuse(self, next: RedemptionStatus) -> Error {
        Error::conflict(
            "invalid_redemption_transition",
            format!(
                "A redemption that is {} cannot become {}",
                self.as_str(),
                next.as_str()
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_is_value_times_rate_plus_markup_rounded_up() {
        // 500.00 INR at 1 point per rupee, no markup: 500 points.
        let price_plain = price(Points::from_whole(500), Points::from_whole(1), 0, 1);
        assert_eq!(price_plain, Ok(Points::from_whole(500)));
        // 500 INR at 2.5 points per rupee with 10 % markup: 1375 points, for two units 2750.
        let rate = Points::from_hundredths(250);
        assert_eq!(
            price(Points::from_whole(500), rate, 1000, 2),
            Ok(Points::from_whole(2750))
        );
        // 0.01 INR with 12.5 % markup: 0.01125 points, rounded up to 0.02.
        let tiny = price(Points::from_hundredths(1), Points::from_whole(1), 1250, 1);
        assert_eq!(tiny, Ok(Points::from_hundredths(2)));
    }

    #[test]
    fn delivered_orders_are_final() {
        assert!(!RedemptionStatus::Delivered.can_become(RedemptionStatus::Cancelled));
        assert!(!RedemptionStatus::Shipped.can_become(RedemptionStatus::Cancelled));
        assert!(RedemptionStatus::Pending.can_become(RedemptionStatus::Cancelled));
    }
}
