-- Files (docs/files.md): the write side's record of each upload, from the request for an upload until it is swept.
-- Not derived from the log: an upload is not a fact of any stream until a message carries it (message.posted `files`,
-- with the metadata and SHA-256 recorded here). `size` is the size asked for until the bytes arrive, then theirs;
-- `content_type` the declared type until then, then the type found in the bytes. The workspace quota counts every row.
create table ws_files (
    file_id text primary key,
    workspace_id text not null,
    uploader_id text not null,
    name text not null,
    size bigint not null,
    content_type text not null,
    sha256 text,
    created_at timestamptz not null default now(),
    uploaded_at timestamptz,
    attached_at timestamptz,
    expires_at timestamptz not null);
create index ws_files_workspace on ws_files (workspace_id);
create index ws_files_unattached on ws_files (expires_at) where attached_at is null;
