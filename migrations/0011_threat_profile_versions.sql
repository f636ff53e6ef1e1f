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
