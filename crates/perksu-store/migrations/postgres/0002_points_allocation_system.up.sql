-- The allocation layer: the tenant pool, the lead balance, wallets, and the audit trail of
-- every movement between them.

alter table tenants add column points_allocation_balance bigint not null default 0;
alter table tenants add constraint positive_points_allocation_balance
    check (points_allocation_balance >= 0);

alter table users add column lead_distribution_balance bigint not null default 0;
alter table users add constraint positive_lead_distribution_balance
    check (lead_distribution_balance >= 0);

create table wallets (
    id text primary key,
    tenant_id text not null references tenants (id),
    user_id text not null constraint wallets_user_id_key unique references users (id),
    balance bigint not null default 0 constraint positive_wallet_balance check (balance >= 0),
    lifetime_earned bigint not null default 0,
    lifetime_spent bigint not null default 0,
    created_at text not null,
    updated_at text not null
);
create index wallets_tenant_id_idx on wallets (tenant_id);

-- The journal: one row per movement, append-only. Accounts are named `issuance`,
-- `pool:<tenant id>`, `lead:<user id>` and `wallet:<user id>`. Every stored balance equals
-- its credits minus its debits here; `perksu verify` checks it.
create table journal_entries (
    id text primary key,
    tenant_id text references tenants (id),
    kind text not null,
    debit_account text not null,
    credit_account text not null,
    amount bigint not null constraint journal_entries_amount_positive check (amount > 0),
    actor_id text references users (id),
    reason text,
    reference_id text,
    created_at text not null,
    constraint journal_entries_distinct_accounts check (debit_account <> credit_account)
);
create index journal_entries_tenant_id_idx on journal_entries (tenant_id, created_at);
create index journal_entries_debit_account_idx on journal_entries (debit_account);
create index journal_entries_credit_account_idx on journal_entries (credit_account);

create table allocation_logs (
    id text primary key,
    tenant_id text not null references tenants (id),
    allocated_by text not null references users (id),
    amount bigint not null constraint allocation_logs_amount_positive check (amount > 0),
    currency text not null,
    reference_note text,
    previous_balance bigint not null,
    new_balance bigint not null,
    journal_entry_id text not null references journal_entries (id),
    created_at text not null
);
create index allocation_logs_tenant_id_idx on allocation_logs (tenant_id);
create index allocation_logs_allocated_by_idx on allocation_logs (allocated_by);

create table platform_billing_logs (
    id text primary key,
    tenant_id text not null references tenants (id),
    admin_id text not null references users (id),
    transaction_type text not null
        constraint platform_billing_logs_type_check
        check (transaction_type in ('CREDIT_INJECTION', 'CLAWBACK')),
    amount bigint not null constraint platform_billing_logs_amount_positive check (amount > 0),
    currency text not null,
    reference_note text,
    journal_entry_id text not null references journal_entries (id),
    created_at text not null
);
create index platform_billing_logs_tenant_id_idx on platform_billing_logs (tenant_id);
create index platform_billing_logs_admin_id_idx on platform_billing_logs (admin_id);

create table recognitions (
    id text primary key,
    tenant_id text not null references tenants (id),
    from_user_id text not null references users (id),
    to_user_id text not null references users (id),
    points bigint not null constraint recognitions_points_not_negative check (points >= 0),
    message text not null,
    funding_source text not null
        constraint recognitions_funding_source_check
        check (funding_source in ('none', 'pool', 'lead_balance')),
    journal_entry_id text references journal_entries (id),
    created_at text not null
);
create index recognitions_tenant_id_idx on recognitions (tenant_id, created_at);

create table wallet_ledger (
    id text primary key,
    tenant_id text not null references tenants (id),
    wallet_id text not null references wallets (id),
    user_id text not null references users (id),
    transaction_type text not null
        constraint wallet_ledger_type_check check (transaction_type in ('credit', 'debit')),
    source text not null,
    amount bigint not null constraint wallet_ledger_amount_positive check (amount > 0),
    balance_after bigint not null,
    reference_id text,
    description text,
    created_by text references users (id),
    journal_entry_id text not null references journal_entries (id),
    created_at text not null
);
create index wallet_ledger_wallet_id_idx on wallet_ledger (wallet_id, created_at);
create index wallet_ledger_tenant_id_idx on wallet_ledger (tenant_id, created_at);

-- A point-moving request sent twice with the same key is answered from here the second time.
create table idempotency_keys (
    user_id text not null references users (id),
    idempotency_key text not null,
    request_hash text not null,
    response_status integer not null,
    response_body text not null,
    created_at text not null,
    constraint idempotency_keys_pkey primary key (user_id, idempotency_key)
);
