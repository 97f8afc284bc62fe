-- Recognition programs: per-tenant funding mode settings, fiscal budgets split across
-- departments and leads, recognition types with several recipients, badges, comments,
-- reactions, the tenant feed and the notification outbox. See docs/ECONOMY.md.

-- Award tiers are a JSON list of {"name", "points"} with points in hundredths.
alter table tenants add column award_tiers text not null
    default '[{"name":"Gold","points":500000},{"name":"Silver","points":250000},{"name":"Bronze","points":100000}]';
alter table tenants add column peer_to_peer_enabled bigint not null default 1
    constraint tenants_peer_to_peer_enabled_check check (peer_to_peer_enabled in (0, 1));
alter table tenants add column monthly_giving_allowance bigint
    constraint tenants_monthly_giving_allowance_check check (monthly_giving_allowance >= 0);

-- Every change of a tenant's funding mode (legacy -> pool only).
create table tenant_mode_changes (
    id text primary key,
    tenant_id text not null references tenants (id),
    from_mode text not null,
    to_mode text not null,
    changed_by text not null references users (id),
    reason text,
    created_at text not null
);
create index tenant_mode_changes_tenant_id_idx on tenant_mode_changes (tenant_id);

-- A fiscal budget. `allocated_points` is the part split across departments and leads; the
-- check keeps the split within the total.
create table budgets (
    id text primary key,
    tenant_id text not null references tenants (id),
    name text not null,
    fiscal_year bigint not null
        constraint budgets_fiscal_year_check check (fiscal_year between 2000 and 2100),
    fiscal_quarter bigint
        constraint budgets_fiscal_quarter_check check (fiscal_quarter between 1 and 4),
    total_points bigint not null
        constraint budgets_total_points_check check (total_points >= 0),
    allocated_points bigint not null default 0,
    status text not null default 'draft'
        constraint budgets_status_check check (status in ('draft', 'active', 'closed')),
    -- the last day (YYYY-MM-DD, UTC) on which the budget funds recognitions
    expiry_date text,
    created_by text not null references users (id),
    created_at text not null,
    updated_at text not null,
    activated_at text,
    closed_at text,
    constraint budgets_allocation_within_total
        check (allocated_points >= 0 and allocated_points <= total_points)
);
create index budgets_tenant_id_idx on budgets (tenant_id, created_at);
create unique index budgets_one_active_per_tenant on budgets (tenant_id) where status = 'active';

create table department_budgets (
    id text primary key,
    tenant_id text not null references tenants (id),
    budget_id text not null references budgets (id),
    department_id text not null references departments (id),
    allocated_points bigint not null,
    spent_points bigint not null default 0,
    -- the most the department may spend in one calendar month (UTC); null means no cap
    monthly_cap bigint constraint department_budgets_monthly_cap_check check (monthly_cap > 0),
    created_at text not null,
    updated_at text not null,
    constraint department_budgets_budget_department_key unique (budget_id, department_id),
    constraint department_budgets_spent_within_allocation
        check (spent_points >= 0 and spent_points <= allocated_points)
);
create index department_budgets_department_id_idx on department_budgets (department_id);

-- What a department budget spent per calendar month, for its monthly cap.
create table department_budget_months (
    department_budget_id text not null references department_budgets (id),
    month text not null,
    spent_points bigint not null default 0
        constraint department_budget_months_spent_check check (spent_points >= 0),
    constraint department_budget_months_pkey primary key (department_budget_id, month)
);

-- A lead's personal budget within a fiscal budget, drawn by the lead's recognitions.
create table lead_allocations (
    id text primary key,
    tenant_id text not null references tenants (id),
    budget_id text not null references budgets (id),
    lead_id text not null references users (id),
    allocated_points bigint not null,
    spent_points bigint not null default 0,
    created_at text not null,
    updated_at text not null,
    constraint lead_allocations_budget_lead_key unique (budget_id, lead_id),
    constraint lead_allocations_spent_within_allocation
        check (spent_points >= 0 and spent_points <= allocated_points)
);
create index lead_allocations_lead_id_idx on lead_allocations (lead_id);

-- Who did what to a budget: created, updated, activated, closed, split changes.
create table budget_events (
    id text primary key,
    tenant_id text not null references tenants (id),
    budget_id text not null references budgets (id),
    actor_id text not null references users (id),
    action text not null,
    detail text not null,
    created_at text not null
);
create index budget_events_budget_id_idx on budget_events (budget_id, created_at);

-- Points an employee gave in a calendar month, for the tenant's monthly giving allowance.
create table giving_allowance_usage (
    user_id text not null references users (id),
    month text not null,
    tenant_id text not null references tenants (id),
    given_points bigint not null default 0
        constraint giving_allowance_usage_given_check check (given_points >= 0),
    constraint giving_allowance_usage_pkey primary key (user_id, month)
);

-- Badges: system badges have no tenant; tenants add their own.
create table badges (
    id text primary key,
    tenant_id text references tenants (id),
    name text not null,
    description text not null,
    icon text not null,
    created_at text not null
);
create index badges_tenant_id_idx on badges (tenant_id);
insert into badges (id, tenant_id, name, description, icon, created_at) values
    ('00000000-0000-7000-8000-000000000001', null, 'Team Player', 'Made the team better', 'handshake', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000002', null, 'Innovator', 'Found a better way', 'lightbulb', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000003', null, 'Customer Hero', 'Went the extra mile for a customer', 'star', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000004', null, 'Above and Beyond', 'Did more than was asked', 'rocket', '2026-01-01T00:00:00.000000Z'),
    ('00000000-0000-7000-8000-000000000005', null, 'Mentor', 'Helped others grow', 'compass', '2026-01-01T00:00:00.000000Z');

-- Recognitions gain a type, several recipients, a badge, a visibility and the budget they
-- were counted against. SQLite cannot alter a constraint, so the table is rebuilt (nothing
-- references it by foreign key); `to_user_id` stays as the first recipient.
create table recognitions_new (
    id text primary key,
    tenant_id text not null references tenants (id),
    from_user_id text not null references users (id),
    to_user_id text not null references users (id),
    points bigint not null constraint recognitions_points_not_negative check (points >= 0),
    message text not null,
    funding_source text not null
        constraint recognitions_funding_source_check
        check (funding_source in
            ('none', 'pool', 'lead_balance', 'department_budget', 'lead_allocation', 'wallet')),
    journal_entry_id text references journal_entries (id),
    created_at text not null,
    recognition_type text not null default 'standard'
        constraint recognitions_type_check
        check (recognition_type in ('standard', 'individual_award', 'group_award', 'ecard')),
    award_tier text,
    split_mode text constraint recognitions_split_mode_check check (split_mode in ('equal', 'each')),
    ecard_template text,
    badge_id text references badges (id),
    visibility text not null default 'public'
        constraint recognitions_visibility_check
        check (visibility in ('public', 'private', 'department')),
    -- the giver's department when given: who sees a department-visible recognition
    department_id text references departments (id),
    department_budget_id text references department_budgets (id),
    lead_allocation_id text references lead_allocations (id),
    budget_month text
);
insert into recognitions_new (id, tenant_id, from_user_id, to_user_id, points, message,
    funding_source, journal_entry_id, created_at)
select id, tenant_id, from_user_id, to_user_id, points, message, funding_source,
    journal_entry_id, created_at
from recognitions;
drop table recognitions;
alter table recognitions_new rename to recognitions;
create index recognitions_tenant_id_idx on recognitions (tenant_id, created_at);
create index recognitions_from_user_id_idx on recognitions (from_user_id);
create index recognitions_department_budget_id_idx on recognitions (department_budget_id);
create index recognitions_lead_allocation_id_idx on recognitions (lead_allocation_id);

-- One row per recipient: what each received and the movement that paid it.
create table recognition_recipients (
    recognition_id text not null references recognitions (id),
    user_id text not null references users (id),
    tenant_id text not null references tenants (id),
    points bigint not null constraint recognition_recipients_points_check check (points >= 0),
    journal_entry_id text references journal_entries (id),
    position bigint not null,
    constraint recognition_recipients_pkey primary key (recognition_id, user_id)
);
create index recognition_recipients_user_id_idx on recognition_recipients (user_id);
insert into recognition_recipients (recognition_id, user_id, tenant_id, points, journal_entry_id,
    position)
select id, to_user_id, tenant_id, points, journal_entry_id, 0 from recognitions;

create table recognition_comments (
    id text primary key,
    tenant_id text not null references tenants (id),
    recognition_id text not null references recognitions (id),
    user_id text not null references users (id),
    body text not null,
    created_at text not null
);
create index recognition_comments_recognition_id_idx on recognition_comments (recognition_id, created_at);

create table recognition_reactions (
    recognition_id text not null references recognitions (id),
    user_id text not null references users (id),
    tenant_id text not null references tenants (id),
    kind text not null
        constraint recognition_reactions_kind_check
        check (kind in ('like', 'clap', 'celebrate', 'heart', 'insightful')),
    created_at text not null,
    constraint recognition_reactions_pkey primary key (recognition_id, user_id, kind)
);

-- The tenant feed: recognitions, awards and milestones, with the recognition's visibility.
create table feed_items (
    id text primary key,
    tenant_id text not null references tenants (id),
    kind text not null constraint feed_items_kind_check check (kind in ('recognition', 'award', 'milestone')),
    recognition_id text references recognitions (id),
    -- who the item is about: the giver of a recognition, the user who reached a milestone
    user_id text not null references users (id),
    title text not null,
    visibility text not null
        constraint feed_items_visibility_check check (visibility in ('public', 'private', 'department')),
    department_id text references departments (id),
    created_at text not null
);
create index feed_items_tenant_id_idx on feed_items (tenant_id, created_at);

-- Notifications waiting for a delivery channel other than in-app (email, chat): written in the
-- same transaction as the notification, claimed by a channel's worker.
create table notification_outbox (
    id text primary key,
    notification_id text not null references notifications (id),
    channel text not null constraint notification_outbox_channel_check check (channel in ('email')),
    status text not null default 'pending'
        constraint notification_outbox_status_check check (status in ('pending', 'sent', 'failed')),
    attempts bigint not null default 0,
    created_at text not null,
    updated_at text not null
);
create index notification_outbox_status_idx on notification_outbox (status, created_at);
