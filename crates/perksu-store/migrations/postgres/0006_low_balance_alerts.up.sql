-- Low-balance alerts: a tenant's pool or a lead's delegated balance crossing below its
-- threshold raises one alert (an in-app notification to the tenant's managers, and a signed
-- webhook when the tenant configured one). See `alerts.rs` in the store.

-- The lead threshold is one per tenant; null switches lead alerts off. The pool threshold is
-- the existing `low_balance_threshold`.
alter table tenants add column lead_low_balance_threshold bigint
    constraint tenants_lead_low_balance_threshold_not_negative
    check (lead_low_balance_threshold >= 0);
-- Where alerts are posted, and the key their HMAC-SHA256 signature is made with. The secret is
-- never sent back by the API; it only says whether one is set.
alter table tenants add column alert_webhook_url text;
alter table tenants add column alert_webhook_secret text;
-- "Fire once per crossing": cleared when an alert fires, set again when the balance is back
-- at or above the threshold. 0 or 1, not boolean: the shared driver cannot read SQLite
-- booleans.
alter table tenants add column pool_low_balance_armed bigint not null default 1
    constraint tenants_pool_low_balance_armed_flag check (pool_low_balance_armed in (0, 1));
alter table users add column low_balance_armed bigint not null default 1
    constraint users_low_balance_armed_flag check (low_balance_armed in (0, 1));

-- One row per alert fired, written in the transaction of the movement that crossed.
create table alerts (
    id text primary key,
    tenant_id text not null references tenants (id),
    -- the journal's name for the account: `pool:<tenant id>` or `lead:<user id>`
    account text not null,
    -- both in hundredths, as at the moment of the crossing
    balance bigint not null constraint alerts_balance_not_negative check (balance >= 0),
    threshold bigint not null constraint alerts_threshold_positive check (threshold > 0),
    -- the movement that crossed the threshold
    journal_entry_id text not null references journal_entries (id),
    created_at text not null
);
create index alerts_tenant_id_idx on alerts (tenant_id, created_at);

-- Alerts waiting to be posted to the tenant's webhook. Written with the alert, so a crash
-- between the commit and the post loses nothing: a worker posts every row until it is
-- delivered or gives up (at-least-once; receivers dedupe by alert id).
create table webhook_outbox (
    id text primary key,
    alert_id text not null constraint webhook_outbox_alert_id_key unique references alerts (id),
    tenant_id text not null references tenants (id),
    status text not null default 'pending'
        constraint webhook_outbox_status_check check (status in ('pending', 'delivered', 'failed')),
    attempts bigint not null default 0
        constraint webhook_outbox_attempts_not_negative check (attempts >= 0),
    -- when the next attempt may be made (exponential backoff after a failure)
    next_attempt_at text not null,
    -- a worker's claim on the row while it posts: no other worker sends it before this time
    lease_until text,
    -- which claim holds the lease, so a worker that outlived its lease records nothing
    lease_token text,
    last_error text,
    delivered_at text,
    created_at text not null,
    updated_at text not null
);
create index webhook_outbox_due_idx on webhook_outbox (status, next_attempt_at);

-- Every attempt to post an alert: the receiver's HTTP status, or why there was none.
create table webhook_delivery_attempts (
    id text primary key,
    outbox_id text not null references webhook_outbox (id),
    alert_id text not null references alerts (id),
    tenant_id text not null references tenants (id),
    attempt bigint not null constraint webhook_delivery_attempts_attempt_positive check (attempt > 0),
    url text not null,
    status_code bigint,
    error text,
    -- the time of the attempt
    created_at text not null
);
create index webhook_delivery_attempts_tenant_id_idx
    on webhook_delivery_attempts (tenant_id, created_at);
create index webhook_delivery_attempts_alert_id_idx on webhook_delivery_attempts (alert_id);
