-- Dropping wallets.expired_balance while it holds points would leave `expired:` journal
-- entries with no stored balance, and `perksu verify` would fail: an operator has to decide
-- what becomes of those points first.
do $$
begin
    if exists (select 1 from wallets where expired_balance <> 0) then
        raise exception 'wallet points have expired: rolling back 0005 would orphan their journal entries';
    end if;
end
$$;
drop table expiry_warnings;
alter table wallets drop column expired_balance;
alter table tenants drop column wallet_expiry_warning_days;
alter table tenants drop column wallet_expiry_days;
alter table tenants drop column pool_expiry_days;
