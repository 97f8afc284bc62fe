-- The rewards catalogue, redemptions with their holds, and in-app notifications.
--
-- Money values (an item's face value) are BIGINT hundredths of the tenant's currency, like
-- points. A redemption's points sit in two per-redemption accounts: `hold_balance` while the
-- order is open, `redeemed_balance` once delivered (journal keys `hold:<id>`, `redeemed:<id>`).

-- Pricing: points per currency unit (hundredths, so 100 = 1 point per rupee) and a markup in
-- hundredths of a percent (1250 = 12.5%).
-- SQLite cannot add a constraint to an existing table, so the checks ride on the new columns.
alter table tenants add column points_per_currency_unit bigint not null default 100
    constraint tenants_points_per_currency_unit_positive check (points_per_currency_unit > 0);
alter table tenants add column redemption_markup_bp bigint not null default 0
    constraint tenants_redemption_markup_bp_range check (redemption_markup_bp between 0 and 100000);
-- Switches are 0 or 1 on both backends (the shared driver cannot read SQLite booleans).
alter table tenants add column redemptions_paused bigint not null default 0
    constraint tenants_redemptions_paused_flag check (redemptions_paused in (0, 1));
alter table tenants add column redemption_confirmation_required bigint not null default 0
    constraint tenants_redemption_confirmation_required_flag
    check (redemption_confirmation_required in (0, 1));
alter table tenants add column redemption_timeout_hours bigint not null default 336;

create table reward_items (
    id text primary key,
    tenant_id text not null references tenants (id),
    kind text not null
        constraint reward_items_kind_check
        check (kind in ('gift_card', 'merchandise', 'custom', 'charity')),
    name text not null,
    description text,
    category text,
    brand text,
    -- the face value of one unit; gift cards list theirs in `denominations` instead
    face_value bigint constraint reward_items_face_value_positive check (face_value > 0),
    -- comma-separated face values in hundredths, e.g. '50000,100000'
    denominations text,
    -- null: unlimited
    stock bigint constraint reward_items_stock_not_negative check (stock >= 0),
    status text not null default 'active'
        constraint reward_items_status_check check (status in ('active', 'archived')),
    created_at text not null,
    updated_at text not null
);
create index reward_items_tenant_id_idx on reward_items (tenant_id, status);

create table redemptions (
    id text primary key,
    tenant_id text not null references tenants (id),
    user_id text not null references users (id),
    item_id text not null references reward_items (id),
    item_name text not null,
    kind text not null,
    quantity bigint not null constraint redemptions_quantity_positive check (quantity > 0),
    face_value bigint not null,
    points_cost bigint not null constraint redemptions_points_cost_positive check (points_cost > 0),
    hold_balance bigint not null default 0
        constraint positive_redemption_hold_balance check (hold_balance >= 0),
    redeemed_balance bigint not null default 0
        constraint positive_redemption_redeemed_balance check (redeemed_balance >= 0),
    status text not null
        constraint redemptions_status_check
        check (status in ('pending_confirmation', 'pending', 'processing', 'shipped',
                          'delivered', 'failed', 'cancelled', 'rejected', 'expired')),
    provider text not null,
    provider_reference text,
    tracking_number text,
    gift_card_code text,
    shipping_address text,
    confirmation_code_hash text,
    confirmation_attempts bigint not null default 0,
    confirmation_expires_at text,
    fulfil_by text not null,
    created_at text not null,
    updated_at text not null
);
create index redemptions_tenant_id_idx on redemptions (tenant_id, status, created_at);
create index redemptions_user_id_idx on redemptions (user_id, created_at);

-- Every status change of a redemption: who, from what, to what, why, when.
create table redemption_events (
    id text primary key,
    redemption_id text not null references redemptions (id),
    tenant_id text not null references tenants (id),
    from_status text,
    to_status text not null,
    actor_id text references users (id),
    note text,
    created_at text not null
);
create index redemption_events_redemption_id_idx on redemption_events (redemption_id, created_at);

-- Provider callbacks already applied, so a replayed one changes nothing.
create table provider_callbacks (
    event_id text primary key,
    provider text not null,
    redemption_id text not null references redemptions (id),
    received_at text not null
);

-- In-app notifications; also the outbox later channels (email, chat) will read.
create table notifications (
    id text primary key,
    tenant_id text references tenants (id),
    user_id text not null references users (id),
    kind text not null,
    title text not null,
    body text not null,
    reference_id text,
    read_at text,
    created_at text not null
);
create index notifications_user_id_idx on notifications (user_id, created_at);
