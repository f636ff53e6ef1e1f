-- Findings free-text search ("q": case-insensitive substring of title,
-- description or path) on one stored lower-cased column with one trigram index.
--
-- Why: ILIKE over three columns with three trigram indexes measured badly.
-- ILIKE lower-cases every character of the long description under the
-- database locale (~20 µs a row), the planner prices it like a plain
-- comparison, so for a rare term it walked all rows of the repository in id
-- order (200+ ms for 10,000 findings), and planning three trigram indexes
-- cost several ms per query. A pre-lowered column turns the match into a
-- byte-wise LIKE, and a single index lets the planner pick the trigram bitmap
-- for rare terms and the id-ordered scan for common ones.
--
-- Fields are joined with U+001F (unit separator) so a term cannot match across
-- two fields; the store falls back to per-column ILIKE for a term containing it.
ALTER TABLE findings ADD COLUMN search text
    GENERATED ALWAYS AS (lower(title || E'\x1f' || description || E'\x1f' || file_path)) STORED;
CREATE INDEX findings_search_trgm_idx ON findings USING gin (search gin_trgm_ops);
DROP INDEX findings_title_trgm_idx;
DROP INDEX findings_description_trgm_idx;
DROP INDEX findings_file_path_trgm_idx;
