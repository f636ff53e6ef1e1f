-- Findings lists answer with per-status counts (the tabs), which read every
-- row of the repository since status lost its index to HOT bulk triage
-- (0009): ~40 ms at 10,000 findings, most of a list's time
-- (docs/benchmarks.md, "Findings lists and bulk triage"). finding_counts
-- keeps those counts per (repository, status, severity, rule, engine), with
-- the owner and project so scopes and project lists read it too. The store
-- reads it when a filter uses only these columns and falls back to findings
-- otherwise (store/postgres/findingcounts.go).
--
-- Statement-level triggers with transition tables keep it in step inside the
-- writing transaction, whatever writes findings (CreateFinding, the
-- recorder's updates, bulk triage, cascading deletes): one upsert per
-- statement of the net change per key, so a 10,000-row bulk triage is one
-- aggregate, and an update that changes none of the key columns (a re-seen
-- finding) writes nothing. Keys are upserted in key order so two statements
-- lock count rows in the same order.
CREATE TABLE finding_counts (
    repository_id  text NOT NULL,
    status         text NOT NULL,
    severity       text NOT NULL,
    rule_id        text NOT NULL,
    engine         text NOT NULL,
    owner_user_id  text NOT NULL,
    project_id     text NOT NULL,
    n              bigint NOT NULL,
    PRIMARY KEY (repository_id, status, severity, rule_id, engine, owner_user_id, project_id)
);
CREATE INDEX finding_counts_project_idx ON finding_counts (project_id);
CREATE INDEX finding_counts_owner_idx ON finding_counts (owner_user_id);

CREATE FUNCTION finding_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO finding_counts AS c (repository_id, status, severity, rule_id, engine, owner_user_id, project_id, n)
        SELECT repository_id, status, severity, rule_id, engine, owner_user_id, project_id, count(*)
        FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT (repository_id, status, severity, rule_id, engine, owner_user_id, project_id)
        DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO finding_counts AS c (repository_id, status, severity, rule_id, engine, owner_user_id, project_id, n)
        SELECT repository_id, status, severity, rule_id, engine, owner_user_id, project_id, -count(*)
        FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT (repository_id, status, severity, rule_id, engine, owner_user_id, project_id)
        DO UPDATE SET n = c.n + EXCLUDED.n;
        -- A deleted repository leaves no rows behind (other zero rows are
        -- kept: a status emptied by a triage is likely to fill again).
        DELETE FROM finding_counts WHERE n = 0 AND repository_id IN (SELECT DISTINCT repository_id FROM old_rows);
    ELSE
        INSERT INTO finding_counts AS c (repository_id, status, severity, rule_id, engine, owner_user_id, project_id, n)
        SELECT repository_id, status, severity, rule_id, engine, owner_user_id, project_id, sum(d)
        FROM (SELECT repository_id, status, severity, rule_id, engine, owner_user_id, project_id, -1 AS d FROM old_rows
              UNION ALL
              SELECT repository_id, status, severity, rule_id, engine, owner_user_id, project_id, 1 FROM new_rows) x
        GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT (repository_id, status, severity, rule_id, engine, owner_user_id, project_id)
        DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;

-- Created before the backfill, in the migration's transaction: the trigger
-- takes a lock that holds off writers until the counts are complete.
CREATE TRIGGER finding_counts_insert AFTER INSERT ON findings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION finding_counts_apply();
CREATE TRIGGER finding_counts_update AFTER UPDATE ON findings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION finding_counts_apply();
CREATE TRIGGER finding_counts_delete AFTER DELETE ON findings
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION finding_counts_apply();

INSERT INTO finding_counts (repository_id, status, severity, rule_id, engine, owner_user_id, project_id, n)
SELECT repository_id, status, severity, rule_id, engine, owner_user_id, project_id, count(*)
FROM findings GROUP BY 1, 2, 3, 4, 5, 6, 7;

-- The rule and last-seen orders (?sort=rule, ?sort=-last_seen) read their
-- first page from an index, as 0009 does for severity and path; neither
-- column is written by a triage, so bulk triage stays HOT. last_seen_scan_id
-- is written when a scan sees a finding again, which is then no longer a HOT
-- update (~0.3 ms more a row, docs/benchmarks.md). The expressions match sortExpr's.
CREATE INDEX findings_repository_rule_sort_idx ON findings (repository_id, rule_id COLLATE "C", file_path COLLATE "C", id COLLATE "C");
CREATE INDEX findings_repository_last_seen_sort_idx ON findings (repository_id, last_seen_scan_id COLLATE "C" DESC, file_path COLLATE "C", id COLLATE "C");
