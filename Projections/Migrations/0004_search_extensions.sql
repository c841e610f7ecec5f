-- Search (rm_search) indexes message text with trigrams for substring and CJK matching (gin_trgm_ops, ILIKE,
-- word_similarity). Extensions are database-wide and need a superuser (or a trusted-extension grant) once, so they
-- are created here, at start-up, rather than in a projection's CreateSql, which may run again on any node.
create extension if not exists pg_trgm with schema public;
