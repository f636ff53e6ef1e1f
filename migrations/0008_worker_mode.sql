-- How a worker runs scans, for /v1/ops/workers: the dispatch mode and where
-- runs happen, e.g. "sqs+ecs" (docs/aws.md).
ALTER TABLE workers ADD COLUMN mode text NOT NULL DEFAULT '';
