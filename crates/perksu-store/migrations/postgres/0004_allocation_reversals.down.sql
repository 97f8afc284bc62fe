-- Re-adding the narrower check fails while ALLOCATION_REVERSAL billing rows exist: rolling
-- back must not silently delete audit rows, so an operator has to decide what to do with them.
alter table platform_billing_logs drop constraint platform_billing_logs_type_check;
alter table platform_billing_logs add constraint platform_billing_logs_type_check
    check (transaction_type in ('CREDIT_INJECTION', 'CLAWBACK'));
drop table allocation_reversals;
