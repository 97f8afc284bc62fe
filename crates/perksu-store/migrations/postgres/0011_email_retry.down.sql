alter table notification_outbox drop column attempts_before_retry;
