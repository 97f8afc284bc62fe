-- Email delivery of the notification outbox: the lease a worker holds on a row while it
-- sends, the schedule of the next attempt (exponential backoff), the last error, when it was
-- sent, and a `dead` status for rows given up after too many attempts. SQLite cannot alter a
-- check constraint, so the table is rebuilt; nothing references it.
create table notification_outbox_new (
    id text primary key,
    notification_id text not null references notifications (id),
    channel text not null constraint notification_outbox_channel_check check (channel in ('email')),
    status text not null default 'pending'
        constraint notification_outbox_status_check
        check (status in ('pending', 'sent', 'failed', 'dead')),
    attempts bigint not null default 0,
    created_at text not null,
    updated_at text not null,
    -- when the row is due; rows written before this migration are due at once
    next_attempt_at text not null,
    -- a claim: the worker holding `lease_token` sends the row until `lease_until`
    lease_until text,
    lease_token text,
    last_error text,
    sent_at text
);
insert into notification_outbox_new (id, notification_id, channel, status, attempts,
    created_at, updated_at, next_attempt_at)
select id, notification_id, channel, status, attempts, created_at, updated_at, created_at
from notification_outbox;
drop table notification_outbox;
alter table notification_outbox_new rename to notification_outbox;
create index notification_outbox_status_idx on notification_outbox (status, created_at);
-- the worker's claim query: due pending rows, oldest due first
create index notification_outbox_due_idx on notification_outbox (status, next_attempt_at);

-- Invitations: a link to set a first password, mailed to an invited user. Only the token's
-- SHA-256 is kept, so a database dump cannot be used to take an account over.
create table invitations (
    id text primary key,
    user_id text not null references users (id),
    token_hash text not null constraint invitations_token_hash_key unique,
    expires_at text not null,
    used_at text,
    created_at text not null
);
create index invitations_user_idx on invitations (user_id);
