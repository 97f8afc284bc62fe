-- User imports: one row per CSV import that created users (dry runs and refused files leave
-- none), the audit record of who brought how many people into a tenant at once.
create table user_imports (
    id text primary key,
    tenant_id text not null references tenants (id),
    -- null when an operator ran `perksu import-users`, which acts as no user
    actor_id text references users (id),
    row_count bigint not null constraint user_imports_row_count_positive check (row_count > 0),
    created_count bigint not null
        constraint user_imports_created_count_check check (created_count between 0 and row_count),
    created_at text not null
);
create index user_imports_tenant_id on user_imports (tenant_id, created_at);
