-- Who asked to cancel a scan: scan_cancelled's user_id when the runner, not
-- the cancel request itself, ends the scan (docs/scan-lifecycle.md).
ALTER TABLE scans ADD COLUMN cancel_requested_by text NOT NULL DEFAULT '';
