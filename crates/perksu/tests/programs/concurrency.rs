//! Racing recognitions against one limit: a department share, a lead allocation, an
//! employee's monthly allowance. Exactly what fits goes through, on both backends.

use super::*;
use fixtures::{active_budget, allocation_of, budget, lead_allocation, share, share_of};

backend_tests! {
    async fn forty_racing_recognitions_of_10_against_a_share_of_200_let_exactly_20_through(
        app: TestApp
    ) {
        let org = pool_company(&app, "sharerace", 10000).await;
        let budget_id = active_budget(&app, &org, 1000).await;
        share(&app, &org, &budget_id, &org.engineering, 200, None).await;
        let givers = [&org.alice, &org.bob, &org.lead];
        let receivers = [&org.carol, &org.manager];

        let replies = join_all((0..40).map(|i| {
            thank(&app, givers[i % givers.len()], receivers[i % receivers.len()], json!(10))
        }))
        .await;

        assert_eq!(successes_else(&replies, "insufficient_budget"), 20, "{replies:#?}");
        let share_now = share_of(&app, &org, &budget_id, &org.engineering).await;
        assert_eq!(fixtures::spent_and_remaining(&share_now), ("200", "0"));
        assert_eq!(budget(&app, &org, &budget_id).await["spent_points"], "200");
        assert_eq!(pool(&app, &org).await, "9800", "the pool paid exactly 20 × 10");
        let carol: i64 = wallet(&app, &org.carol).await.parse().expect("whole");
        let manager: i64 = wallet(&app, &org.manager).await.parse().expect("whole");
        assert_eq!(carol + manager, 200);
        assert_eq!(recognition_count(&app, &org).await, 20);
        app.assert_ledger_consistent().await;
    }

    async fn racing_recognitions_in_legacy_mode_never_overdraw_a_lead_allocation(app: TestApp) {
        let org = legacy_company(&app, "allocrace").await;
        let budget_id = active_budget(&app, &org, 1000).await;
        lead_allocation(&app, &org, &budget_id, 200).await;
        let receivers = [&org.alice, &org.bob, &org.carol];

        // No department share and an empty wallet: the allocation is the lead's only source.
        let replies = join_all(
            (0..40).map(|i| thank(&app, &org.lead, receivers[i % receivers.len()], json!(10))),
        )
        .await;

        assert_eq!(successes_else(&replies, "insufficient_budget"), 20, "{replies:#?}");
        assert!(replies
            .iter()
            .filter(|r| r.status == 200)
            .all(|r| r.str("funding_source") == "lead_allocation"));
        let allocation = allocation_of(&app, &org, &budget_id).await;
        assert_eq!(fixtures::spent_and_remaining(&allocation), ("200", "0"));
        let mut received = 0;
        for person in receivers {
            received += wallet(&app, person).await.parse::<i64>().expect("whole");
        }
        assert_eq!(received, 200);
        assert_eq!(pool(&app, &org).await, "0");
        assert_eq!(issued_and_minted(&app).await, amounts("0", "200"));
    }

    async fn one_employee_racing_twenty_recognitions_with_room_for_five_gets_five(app: TestApp) {
        let org = pool_company(&app, "allowrace", 10000).await;
        set_tenant(&app, &org, json!({"monthly_giving_allowance": 50})).await;

        let replies = join_all((0..20).map(|_| thank(&app, &org.alice, &org.bob, json!(10)))).await;

        assert_eq!(successes_else(&replies, "insufficient_giving_allowance"), 5, "{replies:#?}");
        let mine = stats(&app, &org.alice).await;
        assert_eq!(mine["given_this_month"], "50");
        assert_eq!(mine["allowance_remaining"], "0");
        assert_eq!(wallet(&app, &org.bob).await, "50");
        assert_eq!(pool(&app, &org).await, "9950");
        app.assert_ledger_consistent().await;
    }
}
