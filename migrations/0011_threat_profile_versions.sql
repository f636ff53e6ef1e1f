-- Kept versions of a repository's threat profile (docs/threat-profile.md):
-- every ready profile the store writes is copied here, newest
-- store.MaxProfileVersions kept. seq orders them; IDs are only ms-ordered.
CREATE TABLE threat_profile_versions (
    id             text PRIMARY KEY,
    seq            bigserial NOT NULL,
    repository_id  text NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    owner_user_id  text NOT NULL,
    source         text NOT NULL DEFAULT '',
    content        jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL,
    created_by     text NOT NULL DEFAULT ''
);
CREATE INDEX threat_profile_versions_repository_idx ON threat_profile_versions (repository_id, seq DESC);

-- Ready profiles written before versions were kept get their first version,
-- so the first change after the upgrade can be undone. The ID is 'tpv_' and
-- 26 Crockford base32 characters like any other (hex digits are a subset),
-- derived from the repository ID as there is no ULID generator in SQL.
INSERT INTO threat_profile_versions (id, repository_id, owner_user_id, source, content, created_at, created_by)
SELECT 'tpv_0' || upper(substr(md5(repository_id), 1, 25)), repository_id, owner_user_id, source, content, updated_at, updated_by
FROM threat_profiles WHERE status = 'ready';
