-- Per-user quotas (docs/limits.md): projects, repositories and stored bytes
-- per user, checked before every create and ingest, so counting one user's
-- rows must stay cheap however many users there are.
--
-- projects and repositories already have (owner_user_id, id) indexes, which
-- answer count(*) with an index-only scan. Snapshots gain the size they take
-- in blob storage (zip plus manifest) and an index that covers the sum.
ALTER TABLE snapshots ADD COLUMN stored_bytes bigint NOT NULL DEFAULT 0;
-- Snapshots made before this migration did not record it; their source size
-- stands in (a zip of source code is smaller, so this errs on the safe side).
UPDATE snapshots SET stored_bytes = total_bytes;
CREATE INDEX snapshots_owner_idx ON snapshots (owner_user_id) INCLUDE (stored_bytes);
