-- Vega schema v1: one table per entity of store/types.go.
--
-- Conventions:
--   * IDs are prefixed ULIDs (text); they are time-ordered, so "newest first"
--     lists are ORDER BY id DESC and a cursor is just the last id.
--   * Everything the API filters or sorts on is a real column with an index;
--     nested structs and arrays that are only ever read back whole are JSONB.
--   * Ownership is denormalised (owner_user_id on every owned row) so each
--     scoped query is a single indexed predicate, never a join up the tree.
--   * Children reference their parent with ON DELETE CASCADE so DeleteProject
--     and DeleteRepository are a single DELETE.

-- Trigram indexes make the findings "q" filter (case-insensitive substring)
-- indexable. pg_trgm is a trusted extension (PG 13+): a database owner may
-- create it, and RDS/Aurora ship it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
    id             text PRIMARY KEY,
    email          text NOT NULL,
    display_name   text NOT NULL DEFAULT '',
    groups         jsonb NOT NULL DEFAULT '[]',
    auth_subject   text NOT NULL DEFAULT '',
    password_hash  text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    last_login_at  timestamptz
);
-- Emails are unique ignoring case and surrounding space (the store rejects
-- empty ones); subjects are unique when present.
CREATE UNIQUE INDEX users_email_key ON users (lower(btrim(email)));
CREATE UNIQUE INDEX users_auth_subject_key ON users (auth_subject) WHERE auth_subject <> '';

CREATE TABLE api_keys (
    id            text PRIMARY KEY,
    user_id       text NOT NULL,
    name          text NOT NULL DEFAULT '',
    prefix        text NOT NULL DEFAULT '',
    hash          text NOT NULL,
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz,
    expires_at    timestamptz
);
CREATE UNIQUE INDEX api_keys_hash_key ON api_keys (hash);
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id, id DESC);

CREATE TABLE refresh_sessions (
    id          text PRIMARY KEY,
    user_id     text NOT NULL,
    token_hash  text NOT NULL,
    family      text NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX refresh_sessions_token_hash_key ON refresh_sessions (token_hash);
CREATE INDEX refresh_sessions_family_idx ON refresh_sessions (family);
CREATE INDEX refresh_sessions_expires_at_idx ON refresh_sessions (expires_at);

CREATE TABLE projects (
    id             text PRIMARY KEY,
    owner_user_id  text NOT NULL,
    name           text NOT NULL,
    description    text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX projects_owner_idx ON projects (owner_user_id, id DESC);

CREATE TABLE repositories (
    id                  text PRIMARY KEY,
    project_id          text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    owner_user_id       text NOT NULL,
    name                text NOT NULL,
    source_type         text NOT NULL,
    git_url             text NOT NULL DEFAULT '',
    git_ref             text NOT NULL DEFAULT '',
    ingest_status       text NOT NULL,
    ingest_error        jsonb,
    latest_snapshot_id  text NOT NULL DEFAULT '',
    pending_upload_key  text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX repositories_project_idx ON repositories (project_id, id DESC);
CREATE INDEX repositories_owner_idx ON repositories (owner_user_id, id DESC);
-- Crash recovery looks for unfinished ingests; ready/failed rows are the bulk.
CREATE INDEX repositories_ingest_unfinished_idx ON repositories (ingest_status)
    WHERE ingest_status NOT IN ('ready', 'failed');

CREATE TABLE snapshots (
    id              text PRIMARY KEY,
    repository_id   text NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    owner_user_id   text NOT NULL,
    storage_key     text NOT NULL DEFAULT '',
    manifest_key    text NOT NULL DEFAULT '',
    commit_sha      text NOT NULL DEFAULT '',
    file_count      integer NOT NULL DEFAULT 0,
    total_bytes     bigint NOT NULL DEFAULT 0,
    languages       jsonb NOT NULL DEFAULT '{}',
    skipped         jsonb NOT NULL DEFAULT '{}',
    content_sha256  text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);
CREATE INDEX snapshots_repository_idx ON snapshots (repository_id, id DESC);

-- One profile per repository, so the repository id is the key.
CREATE TABLE threat_profiles (
    repository_id  text PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
    id             text NOT NULL UNIQUE,
    owner_user_id  text NOT NULL,
    status         text NOT NULL,
    source         text NOT NULL DEFAULT '',
    content        jsonb NOT NULL DEFAULT '{}',
    error          jsonb,
    updated_at     timestamptz NOT NULL,
    updated_by     text NOT NULL DEFAULT ''
);

CREATE TABLE scans (
    id                   text PRIMARY KEY,
    repository_id        text NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    project_id           text NOT NULL,
    owner_user_id        text NOT NULL,
    snapshot_id          text NOT NULL DEFAULT '',
    requested_by         text NOT NULL DEFAULT '',
    status               text NOT NULL,
    engines              jsonb NOT NULL DEFAULT '[]',
    paths                jsonb NOT NULL DEFAULT '[]',
    threat_profile       jsonb,
    progress             jsonb NOT NULL DEFAULT '{}',
    stages               jsonb NOT NULL DEFAULT '[]',
    error                jsonb,
    stop_reason          text NOT NULL DEFAULT '',
    attempt              integer NOT NULL DEFAULT 0,
    claimed_by           text NOT NULL DEFAULT '',
    heartbeat_at         timestamptz,
    cancel_requested_at  timestamptz,
    usage                jsonb NOT NULL DEFAULT '{}',
    finding_counts       jsonb NOT NULL DEFAULT '{}',
    artifacts            jsonb NOT NULL DEFAULT '[]',
    created_at           timestamptz NOT NULL,
    claimed_at           timestamptz,
    started_at           timestamptz,
    finished_at          timestamptz,
    -- Last event seq handed out. AppendEvents bumps it with UPDATE … RETURNING,
    -- whose row lock serialises appenders of one scan and keeps seqs gap-free.
    last_event_seq       bigint NOT NULL DEFAULT 0
);
CREATE INDEX scans_repository_idx ON scans (repository_id, id DESC);
CREATE INDEX scans_project_idx ON scans (project_id, id DESC);
CREATE INDEX scans_owner_idx ON scans (owner_user_id, id DESC);
CREATE INDEX scans_status_idx ON scans (status, id DESC);
-- The claim query takes the oldest queued scan; queued rows are few.
CREATE INDEX scans_queued_idx ON scans (created_at, id) WHERE status = 'queued';
-- Quota counts and stale-scan recovery only look at active scans.
CREATE INDEX scans_active_owner_idx ON scans (owner_user_id)
    WHERE status IN ('queued', 'claimed', 'running');
CREATE INDEX scans_inflight_idx ON scans (heartbeat_at)
    WHERE status IN ('claimed', 'running');

-- Append-only log. Payload is json (not jsonb) so it reads back byte for byte.
CREATE TABLE events (
    scan_id     text NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    seq         bigint NOT NULL,
    kind        text NOT NULL,
    payload     json,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (scan_id, seq)
);

CREATE TABLE findings (
    id                  text PRIMARY KEY,
    scan_id             text NOT NULL DEFAULT '',
    repository_id       text NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    project_id          text NOT NULL,
    owner_user_id       text NOT NULL,
    fingerprint         text NOT NULL DEFAULT '',
    engine              text NOT NULL DEFAULT '',
    title               text NOT NULL DEFAULT '',
    severity            text NOT NULL DEFAULT '',
    confidence          text NOT NULL DEFAULT '',
    category            text NOT NULL DEFAULT '',
    cwe                 text[], -- NULL keeps a nil slice nil on read-back
    file_path           text NOT NULL DEFAULT '',
    start_line          integer NOT NULL DEFAULT 0,
    end_line            integer NOT NULL DEFAULT 0,
    description         text NOT NULL DEFAULT '',
    evidence            text NOT NULL DEFAULT '',
    recommendation      text NOT NULL DEFAULT '',
    locations           jsonb NOT NULL DEFAULT '[]',
    status              text NOT NULL,
    dismissed_reason    text NOT NULL DEFAULT '',
    triage_note         text NOT NULL DEFAULT '',
    first_seen_scan_id  text NOT NULL DEFAULT '',
    last_seen_scan_id   text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
-- A fingerprint identifies one finding per repository across scans.
CREATE UNIQUE INDEX findings_fingerprint_key ON findings (repository_id, fingerprint)
    WHERE fingerprint <> '';
CREATE INDEX findings_repository_idx ON findings (repository_id, id DESC);
CREATE INDEX findings_project_idx ON findings (project_id, id DESC);
CREATE INDEX findings_owner_idx ON findings (owner_user_id, id DESC);
CREATE INDEX findings_repository_severity_idx ON findings (repository_id, severity, id DESC);
CREATE INDEX findings_repository_status_idx ON findings (repository_id, status, id DESC);
CREATE INDEX findings_repository_engine_idx ON findings (repository_id, engine, id DESC);
CREATE INDEX findings_cwe_idx ON findings USING gin (cwe);
CREATE INDEX findings_title_trgm_idx ON findings USING gin (title gin_trgm_ops);
CREATE INDEX findings_description_trgm_idx ON findings USING gin (description gin_trgm_ops);
CREATE INDEX findings_file_path_trgm_idx ON findings USING gin (file_path gin_trgm_ops);

-- Which findings each scan reported, under the engine-local key (SPEC §8.3).
CREATE TABLE scan_findings (
    scan_id     text NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    key         text NOT NULL,
    finding_id  text NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    PRIMARY KEY (scan_id, key)
);
CREATE INDEX scan_findings_scan_finding_idx ON scan_findings (scan_id, finding_id);
CREATE INDEX scan_findings_finding_idx ON scan_findings (finding_id);

CREATE TABLE finding_history (
    id           text PRIMARY KEY,
    finding_id   text NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    actor        text NOT NULL DEFAULT '',
    from_status  text NOT NULL DEFAULT '',
    to_status    text NOT NULL DEFAULT '',
    reason       text NOT NULL DEFAULT '',
    note         text NOT NULL DEFAULT '',
    at           timestamptz NOT NULL
);
CREATE INDEX finding_history_finding_idx ON finding_history (finding_id, at, id);

CREATE TABLE runner_jobs (
    id               text PRIMARY KEY,
    scan_id          text NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    attempt          integer NOT NULL,
    idempotency_key  text NOT NULL DEFAULT '',
    ecs_task_arn     text NOT NULL DEFAULT '',
    status           text NOT NULL,
    stopped_reason   text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    -- At most one runner job per scan attempt (SPEC §4).
    UNIQUE (scan_id, attempt)
);

-- Usage records are billing facts: they keep no foreign key so the bill for
-- work already done survives the deletion of the project or scan.
CREATE TABLE usage_records (
    id                   text PRIMARY KEY,
    scan_id              text NOT NULL DEFAULT '',
    project_id           text NOT NULL DEFAULT '',
    user_id              text NOT NULL,
    model                text NOT NULL DEFAULT '',
    requests             bigint NOT NULL DEFAULT 0,
    input_tokens         bigint NOT NULL DEFAULT 0,
    cached_input_tokens  bigint NOT NULL DEFAULT 0,
    output_tokens        bigint NOT NULL DEFAULT 0,
    cost_usd             double precision NOT NULL DEFAULT 0,
    at                   timestamptz NOT NULL
);
CREATE INDEX usage_records_user_at_idx ON usage_records (user_id, at, id);

CREATE TABLE workers (
    id                 text PRIMARY KEY,
    hostname           text NOT NULL DEFAULT '',
    role               text NOT NULL DEFAULT '',
    version            text NOT NULL DEFAULT '',
    started_at         timestamptz NOT NULL,
    last_heartbeat_at  timestamptz NOT NULL,
    current_scan_ids   jsonb NOT NULL DEFAULT '[]'
);

CREATE TABLE git_uploads (
    id               text PRIMARY KEY,
    user_id          text NOT NULL,
    -- No foreign key: an upload is a short-lived token; DeleteProject removes
    -- the project's uploads explicitly.
    project_id       text NOT NULL,
    repository_name  text NOT NULL DEFAULT '',
    token_hash       text NOT NULL,
    expires_at       timestamptz NOT NULL,
    status           text NOT NULL,
    repository_id    text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX git_uploads_token_hash_key ON git_uploads (token_hash);
CREATE INDEX git_uploads_status_expires_idx ON git_uploads (status, expires_at);
