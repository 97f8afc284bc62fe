-- An operator's retry of a dead email keeps its attempt count (the history stays true) but
-- gives it a fresh round of attempts: the worker counts its give-up limit from here.
alter table notification_outbox add column attempts_before_retry bigint not null default 0;
