package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vegasec/vega/app/awsconf"
	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/store/blob"
	"github.com/vegasec/vega/store/blob/blobcache"
	"github.com/vegasec/vega/store/blob/s3blob"
)

// openS3 builds the S3 blob store, with the snapshot cache in front unless
// VEGA_S3_CACHE_MAX_BYTES=0 (docs/aws.md). A bucket that does not exist stops
// start-up with the variable that names it, and so does one the api or
// maintenance role may not list; a transient failure is only logged
// (/v1/readyz reports it).
func openS3(ctx context.Context, cfg *config.Config, log *slog.Logger, o awsconf.Options) (blob.Store, error) {
	if cfg.AWSEndpointURL != "" {
		o.Endpoint = cfg.AWSEndpointURL
	}
	o.Log = log
	awsCfg, err := awsconf.Load(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("VEGA_FILE_STORAGE_BACKEND=s3: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, func(so *s3.Options) {
		if cfg.S3Endpoint != "" {
			so.BaseEndpoint = aws.String(cfg.S3Endpoint)
		}
		so.UsePathStyle = cfg.S3ForcePathStyle
	})
	if err := checkBuckets(ctx, client, cfg, log); err != nil {
		return nil, err
	}
	st, err := s3blob.New(client, s3blob.Options{SourceBucket: cfg.S3SourceBucket, ArtifactsBucket: cfg.S3ArtifactsBucket, KMSKeyID: cfg.S3KMSKeyID})
	if err != nil {
		return nil, err
	}
	if cfg.S3CacheMaxBytes == 0 {
		return st, nil
	}
	c, err := blobcache.New(st, blobcache.Options{Dir: filepath.Join(cfg.DataDir, "cache", "snapshots"),
		MaxBytes: cfg.S3CacheMaxBytes, Log: log.With("component", "blob-cache")})
	if err != nil {
		return nil, fmt.Errorf("VEGA_S3_CACHE_MAX_BYTES: the snapshot cache under VEGA_DATA_DIR cannot be used: %w", err)
	}
	log.Info("S3 file storage", "cache_dir", c.Dir(), "cache_max_bytes", cfg.S3CacheMaxBytes, "sse", sseName(cfg))
	return c, nil
}

func sseName(cfg *config.Config) string {
	if cfg.S3KMSKeyID != "" {
		return "aws:kms"
	}
	return "AES256"
}

// checkBuckets asks for each bucket once at start-up. Only the roles that
// list buckets (api, maintenance) must be allowed to: with least privilege a
// runner may only read snapshots and write artifacts, and a worker that
// launches ECS tasks touches no object at all (deploy/aws grants exactly
// that), so for them a refusal says nothing wrong.
func checkBuckets(ctx context.Context, client *s3.Client, cfg *config.Config, log *slog.Logger) error {
	lists := cfg.Role == config.RoleAPI || cfg.Role == config.RoleMaintenance
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var errs []error
	for _, b := range []struct{ name, bucket string }{
		{"VEGA_S3_SOURCE_BUCKET", cfg.S3SourceBucket}, {"VEGA_S3_ARTIFACTS_BUCKET", cfg.S3ArtifactsBucket},
	} {
		_, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.bucket)})
		var re *awshttp.ResponseError
		switch {
		case err == nil:
		case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound:
			errs = append(errs, fmt.Errorf("%s: bucket %s does not exist (or is in another region than %s)", b.name, b.bucket, client.Options().Region))
		case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden && !lists:
			log.Debug("S3 bucket not listable by this role (expected with least privilege)", "variable", b.name, "bucket", b.bucket)
		case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden:
			errs = append(errs, fmt.Errorf("%s: this process may not use bucket %s: its role needs s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject on it (and kms:GenerateDataKey and kms:Decrypt with VEGA_S3_KMS_KEY_ID)", b.name, b.bucket))
		default:
			log.Warn("S3 bucket not reachable at start-up; /v1/readyz reports it until it is", "variable", b.name, "bucket", b.bucket, "err", err)
		}
	}
	return errors.Join(errs...)
}
