-- Webhooks (docs/webhooks.md): a project's endpoints and the deliveries on
-- their way to them. A delivery is persisted before its first attempt so a
-- restart resumes it; next_attempt_at doubles as the claim's lease (a claim
-- moves it to the lease's end), so a deliverer that dies leaves it due again.
CREATE TABLE webhooks (
    id             text PRIMARY KEY,
    project_id     text NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    owner_user_id  text NOT NULL,
    url            text NOT NULL,
    events         jsonb NOT NULL,
    min_severity   text NOT NULL DEFAULT '',
    format         text NOT NULL,
    description    text NOT NULL DEFAULT '',
    secret_sealed  bytea NOT NULL,
    created_at     timestamptz NOT NULL
);
CREATE INDEX webhooks_project_idx ON webhooks (project_id, id DESC);

CREATE TABLE webhook_deliveries (
    id               text PRIMARY KEY,
    webhook_id       text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    project_id       text NOT NULL,
    owner_user_id    text NOT NULL,
    event            text NOT NULL,
    payload          json NOT NULL, -- json, not jsonb: the body is kept byte for byte
    status           text NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    lease_token      text NOT NULL DEFAULT '',
    attempts         jsonb NOT NULL DEFAULT '[]',
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id DESC);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
