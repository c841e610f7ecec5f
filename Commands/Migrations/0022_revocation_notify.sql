-- Every revoked token reaches every node's in-memory set (Commands/Accounts/RevokedTokens.cs), whoever inserts it:
-- log-out, log out everywhere, a password change or reset (Sessions.RevokeAllSql). The notification is sent at the
-- inserting transaction's commit, in the format RevokedTokens reads: the token id (32 hex digits) and the expiry in
-- Unix milliseconds. Identical notifications within one transaction are delivered once (log-out also notifies itself).
create or replace function ws_notify_token_revoked() returns trigger language plpgsql as $$
begin
    perform pg_notify('ws_token_revoked',
        replace(new.token_id::text, '-', '') || ' ' || floor(extract(epoch from new.expires_at) * 1000)::bigint::text);
    return null;
end $$;

drop trigger if exists ws_revoked_tokens_notify on ws_revoked_tokens;
create trigger ws_revoked_tokens_notify after insert on ws_revoked_tokens
    for each row execute function ws_notify_token_revoked();
