-- Accounts deactivated by an instance administrator (user.deactivated / user.reactivated on the user's stream):
-- signing in is refused while set (Sessions.RecordIssuedAsync reads it).
alter table ws_users add column if not exists deactivated boolean not null default false;
