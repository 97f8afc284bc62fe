-- Email delivery of the notification outbox: the lease a worker holds on a row while it
-- sends, the schedule of the next attempt (exponential backoff), the last error, when it was
-- sent, and a `dead` status for rows given up after too many attempts.
alter table notification_outbox drop constraint notification_outbox_status_check;
alter table notification_outbox add constraint notification_outbox_status_check
    check (status in ('pending', 'sent', 'failed', 'dead'));
-- when the row is due; rows written before this migration are due at once
alter table notification_outbox add column next_attempt_at text;
update notification_outbox set next_attempt_at = created_at;
alter table notification_outbox alter column next_attempt_at set not null;
-- a claim: the worker holding `lease_token` sends the row until `lease_until`
alter table notification_outbox add column lease_until text;
alter table notification_outbox add column lease_token text;
alter table notification_outbox add column last_error text;
alter table notification_outbox add column sent_at text;
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
