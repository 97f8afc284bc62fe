-- Expiry policies per tenant: allocated pool points and earned wallet points that stay unspent
-- longer than the tenant's period expire (see `expiry.rs` in the store). Spending takes the
-- oldest points first, so what expires is derived from the journal's timestamps; no per-lot
-- table is kept.

-- Null means never: existing tenants keep their points until an admin or manager opts in.
alter table tenants add column pool_expiry_days bigint
    constraint tenants_pool_expiry_days_range check (pool_expiry_days between 1 and 3650);
alter table tenants add column wallet_expiry_days bigint
    constraint tenants_wallet_expiry_days_range check (wallet_expiry_days between 1 and 3650);
-- How many days before wallet points expire their owner is warned; 0 switches warnings off.
alter table tenants add column wallet_expiry_warning_days bigint not null default 7
    constraint tenants_wallet_expiry_warning_days_range
    check (wallet_expiry_warning_days between 0 and 365);

-- The balance of the account `expired:<user id>`: wallet points that expired unspent. Kept on
-- the wallet row (like the wallet's own balance) so `perksu verify` can match it to the journal.
alter table wallets add column expired_balance bigint not null default 0
    constraint positive_expired_balance check (expired_balance >= 0);

-- The "points expiring" warnings already sent: one row per user and expiry day, so a warning
-- goes out at most once per day on which that user's points expire, however often the job
-- runs and on however many servers.
create table expiry_warnings (
    user_id text not null references users (id),
    -- the UTC day (YYYY-MM-DD) on which the warned points expire
    expires_on text not null,
    tenant_id text not null references tenants (id),
    -- what was expected to expire that day when the warning went out, in hundredths
    amount bigint not null constraint expiry_warnings_amount_positive check (amount > 0),
    created_at text not null,
    constraint expiry_warnings_pkey primary key (user_id, expires_on)
);
create index expiry_warnings_tenant_id_idx on expiry_warnings (tenant_id, created_at);
