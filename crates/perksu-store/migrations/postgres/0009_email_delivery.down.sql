drop table invitations;
drop index notification_outbox_due_idx;
alter table notification_outbox drop column sent_at;
alter table notification_outbox drop column last_error;
alter table notification_outbox drop column lease_token;
alter table notification_outbox drop column lease_until;
alter table notification_outbox drop column next_attempt_at;
-- rows given up are kept, as failed, under the older constraint
update notification_outbox set status = 'failed' where status = 'dead';
alter table notification_outbox drop constraint notification_outbox_status_check;
alter table notification_outbox add constraint notification_outbox_status_check
    check (status in ('pending', 'sent', 'failed'));
