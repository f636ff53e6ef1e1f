-- In-source suppressions (docs/findings.md): the suppression covering a
-- finding in its latest scan, and the project setting honor_suppressions
-- (stored inverted so existing projects keep the default, on).
ALTER TABLE findings ADD COLUMN suppression jsonb;
ALTER TABLE projects ADD COLUMN ignore_suppressions boolean NOT NULL DEFAULT false;
