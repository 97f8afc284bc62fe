-- Tenants, users, departments and login sessions.
--
-- Conventions shared with the SQLite schema (the two must not drift; a test compares them):
--   * ids are UUID text, timestamps are RFC 3339 UTC text with microseconds, which sorts in
--     time order;
--   * amounts of points are BIGINT hundredths (100 = one point), never floats.

create table tenants (
    id text primary key,
    name text not null,
    slug text not null constraint tenants_slug_key unique,
    currency text not null default 'INR',
    currency_label text not null default 'Points',
    status text not null default 'active'
        constraint tenants_status_check check (status in ('active', 'suspended')),
    funding_mode text not null default 'pool'
        constraint tenants_funding_mode_check check (funding_mode in ('pool', 'legacy')),
    low_balance_threshold bigint not null default 100000
        constraint tenants_low_balance_threshold_check check (low_balance_threshold >= 0),
    created_at text not null,
    updated_at text not null
);

create table departments (
    id text primary key,
    tenant_id text not null references tenants (id),
    name text not null,
    created_at text not null,
    constraint departments_tenant_name_key unique (tenant_id, name)
);

create table users (
    id text primary key,
    -- null only for platform admins, who belong to no tenant
    tenant_id text references tenants (id),
    email text not null constraint users_email_key unique,
    password_hash text not null,
    first_name text not null,
    last_name text not null,
    role text not null
        constraint users_role_check
        check (role in ('platform_admin', 'tenant_manager', 'lead', 'employee')),
    status text not null default 'active'
        constraint users_status_check check (status in ('active', 'inactive')),
    department_id text references departments (id),
    manager_id text references users (id),
    created_at text not null,
    updated_at text not null,
    constraint users_tenant_matches_role
        check ((role = 'platform_admin') = (tenant_id is null))
);
create index users_tenant_id_idx on users (tenant_id);

-- A bearer token is stored only as its SHA-256, so a leaked table grants no access.
create table sessions (
    token_hash text primary key,
    user_id text not null references users (id),
    created_at text not null,
    expires_at text not null
);
create index sessions_user_id_idx on sessions (user_id);
