-- Reversing a specific allocation (the spec's next task #7): a new movement that points at
-- the allocation it undoes. The allocation_logs row is never edited; what has been reversed
-- is the sum of this table's rows for it.

create table allocation_reversals (
    id text primary key,
    allocation_log_id text not null references allocation_logs (id),
    -- the allocation's tenant, kept here so a tenant's reversals list without a join
    tenant_id text not null references tenants (id),
    amount bigint not null constraint allocation_reversals_amount_positive check (amount > 0),
    -- required: a reversal undoes a billed credit, so someone must say why
    reason text not null,
    reversed_by text not null references users (id),
    journal_entry_id text not null references journal_entries (id),
    created_at text not null
);
-- Every reversal first sums the earlier reversals of its allocation.
create index allocation_reversals_allocation_log_id_idx on allocation_reversals (allocation_log_id);
create index allocation_reversals_tenant_id_idx on allocation_reversals (tenant_id, created_at);

-- The billing trail records reversals as a type of their own, so CREDIT_INJECTION minus
-- CLAWBACK minus ALLOCATION_REVERSAL is what a tenant was billed for.
-- SQLite cannot alter a constraint, so the table is rebuilt under the wider check: create the
-- new table, copy every row, drop the old one (and with it its indexes), rename, re-index.
-- Nothing references platform_billing_logs, so dropping it trips no foreign key.
create table platform_billing_logs_new (
    id text primary key,
    tenant_id text not null references tenants (id),
    admin_id text not null references users (id),
    transaction_type text not null
        constraint platform_billing_logs_type_check
        check (transaction_type in ('CREDIT_INJECTION', 'CLAWBACK', 'ALLOCATION_REVERSAL')),
    amount bigint not null constraint platform_billing_logs_amount_positive check (amount > 0),
    currency text not null,
    reference_note text,
    journal_entry_id text not null references journal_entries (id),
    created_at text not null
);
insert into platform_billing_logs_new (id, tenant_id, admin_id, transaction_type, amount,
    currency, reference_note, journal_entry_id, created_at)
select id, tenant_id, admin_id, transaction_type, amount, currency, reference_note,
    journal_entry_id, created_at
from platform_billing_logs;
drop table platform_billing_logs;
alter table platform_billing_logs_new rename to platform_billing_logs;
create index platform_billing_logs_tenant_id_idx on platform_billing_logs (tenant_id);
create index platform_billing_logs_admin_id_idx on platform_billing_logs (admin_id);
