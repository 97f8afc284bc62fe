-- Security events: what the service refused to protect its accounts, for the platform's
-- operators. Today one kind: sign-ins throttled for an account or a client address. At most
-- one row per account or address per throttling episode (see `sign_in_throttle.rs`), so a
-- flood of attempts cannot flood the table.
create table security_events (
    id text primary key,
    kind text not null constraint security_events_kind check (kind in ('login_throttled')),
    -- what was throttled: the normalised email, or the client's address
    scope text not null constraint security_events_scope check (scope in ('account', 'address')),
    subject text not null,
    -- how long the client was told to wait
    retry_after_seconds bigint not null
        constraint security_events_retry_after_positive check (retry_after_seconds > 0),
    occurred_at text not null
);
create index security_events_occurred_at on security_events (occurred_at);
