drop table webhook_delivery_attempts;
drop table webhook_outbox;
drop table alerts;
alter table users drop column low_balance_armed;
alter table tenants drop column pool_low_balance_armed;
alter table tenants drop column alert_webhook_secret;
alter table tenants drop column alert_webhook_url;
alter table tenants drop column lead_low_balance_threshold;
