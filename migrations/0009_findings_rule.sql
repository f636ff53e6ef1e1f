-- Rules as a dimension of findings (docs/findings.md): rule_id is the gitleaks
-- rule of a secrets finding, the category of a Codex finding. Findings stored
-- before it get their category, which is what every engine reported as rule
-- (the bbolt store does the same when it builds its list index).
ALTER TABLE findings ADD COLUMN rule_id text NOT NULL DEFAULT '';
UPDATE findings SET rule_id = category;

-- The q filter matches rule_id too, so the pre-lowered search column (0002)
-- gains it; a generated column cannot be altered, only replaced.
ALTER TABLE findings DROP COLUMN search;
ALTER TABLE findings ADD COLUMN search text
    GENERATED ALWAYS AS (lower(title || E'\x1f' || description || E'\x1f' || file_path || E'\x1f' || rule_id)) STORED;
CREATE INDEX findings_search_trgm_idx ON findings USING gin (search gin_trgm_ops);
CREATE INDEX findings_repository_rule_idx ON findings (repository_id, rule_id);
