// Package awsconf builds the one aws.Config every AWS client of a process
// shares (S3 now; Secrets Manager at start-up; SQS and ECS later): the SDK's
// default credential chain and region (AWS_REGION, the ECS task role…), the
// SDK's standard retryer, and VEGA_AWS_ENDPOINT_URL as a single endpoint
// override for emulators (docs/aws.md).
package awsconf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
)

// MaxAttempts is how often the SDK tries one call. The standard retryer
// retries only what AWS documents as transient (throttling, 5xx, timeouts,
// connection resets) with jittered exponential backoff.
const MaxAttempts = 4

// Options override the SDK defaults. The zero value is production: region and
// credentials come from the environment or the task role.
type Options struct {
	// Endpoint replaces every service endpoint (VEGA_AWS_ENDPOINT_URL).
	Endpoint string
	// Region, when set, wins over AWS_REGION and the shared config.
	Region string
	// Credentials, when set, replace the default chain (tests).
	Credentials aws.CredentialsProvider
	// HTTPClient, when set, carries every request (tests inject faults here).
	HTTPClient aws.HTTPClient
	// Log receives the SDK's own notices at debug level; nil drops them.
	// (The SDK would otherwise print plain text to stderr beside our JSON logs.)
	Log *slog.Logger
}

// ErrNoRegion is returned when neither the options nor the environment name a region.
var ErrNoRegion = errors.New("no AWS region: set AWS_REGION (ECS sets it for tasks)")

// Load resolves the configuration. It does not call AWS.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(s *retry.StandardOptions) { s.MaxAttempts = MaxAttempts })
		}),
		config.WithLogger(sdkLogger{o.Log}),
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(o.Credentials))
	}
	if o.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(o.HTTPClient))
	}
	if o.Endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(o.Endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, ErrNoRegion
	}
	return cfg, nil
}

// sdkLogger hands the SDK's messages to slog at debug level.
type sdkLogger struct{ log *slog.Logger }

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	if l.log != nil {
		l.log.Debug(fmt.Sprintf(format, v...), "component", "aws-sdk", "classification", string(c))
	}
}
