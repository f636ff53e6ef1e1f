-- When a queued scan was last sent to the scan queue (VEGA_SCAN_EXECUTION_MODE=sqs;
-- docs/aws.md, "SQS dispatch"). NULL: never sent, e.g. the queue was
-- unreachable when the scan was created. The sweeper of `vega worker` sends
-- again the queued scans that were never sent or were sent too long ago.
ALTER TABLE scans ADD COLUMN queue_sent_at timestamptz;
