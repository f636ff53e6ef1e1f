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

-- Sorted lists (?sort=, store/postgres/findings.go): the default order, most
-- severe first then path, and the path order read the first page straight
-- from an index instead of sorting every finding of the repository. The
-- expression must stay identical to sortExpr's for the planner to match it.
CREATE INDEX findings_repository_severity_sort_idx ON findings (repository_id,
    (-(CASE severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 WHEN 'info' THEN 0 ELSE -1 END)),
    file_path COLLATE "C", id COLLATE "C");
CREATE INDEX findings_project_severity_sort_idx ON findings (project_id,
    (-(CASE severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 WHEN 'info' THEN 0 ELSE -1 END)),
    file_path COLLATE "C", id COLLATE "C");
CREATE INDEX findings_repository_path_sort_idx ON findings (repository_id, file_path COLLATE "C", id COLLATE "C");

-- Bulk triage (POST /v1/findings/bulk-triage) rewrites status, reason, note
-- and updated_at of up to 10,000 rows in one statement. While status is in
-- an index every such update is a new tuple in every index of the table,
-- the trigram GIN of search included (~7 s for 10,000 on the benchmark
-- machine). Without it, and with half of each page left free (a finding
-- row is ~1.3 KB), they are HOT
-- updates that touch no index. Status filters use the repository/project
-- indexes and filter on the row instead (docs/benchmarks.md).
DROP INDEX findings_repository_status_idx;
ALTER TABLE findings SET (fillfactor = 50);
