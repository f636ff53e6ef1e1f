// Package awssecrets reads the Secrets Manager secret named by
// VEGA_SECRETS_MANAGER_SECRET_ID at start-up (config.SecretSource). Its errors
// are sentences an operator can act on; they name the secret, never its value.
package awssecrets

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/vegasec/vega/app/awsconf"
)

// timeout bounds the whole read, retries included: start-up must not hang.
const timeout = 30 * time.Second

// Source reads secrets with the process's AWS identity.
type Source struct{ opts awsconf.Options }

// New makes a source; it calls AWS only when a secret is read.
func New(opts awsconf.Options) *Source { return &Source{opts: opts} }

// SecretString returns the secret's current string value.
func (s *Source) SecretString(ctx context.Context, id string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cfg, err := awsconf.Load(ctx, s.opts)
	if err != nil {
		return "", fmt.Errorf("VEGA_SECRETS_MANAGER_SECRET_ID: cannot read secret %s: %w", id, err)
	}
	out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", describe(id, cfg.Region, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("VEGA_SECRETS_MANAGER_SECRET_ID: secret %s holds binary data; store a JSON object of VEGA_* keys as its string", id)
	}
	return *out.SecretString, nil
}

func describe(id, region string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ResourceNotFoundException":
			return fmt.Errorf("VEGA_SECRETS_MANAGER_SECRET_ID: secret %s does not exist in region %s (or has no current value)", id, region)
		case "AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException":
			return fmt.Errorf("VEGA_SECRETS_MANAGER_SECRET_ID: this process may not read secret %s: its role needs secretsmanager:GetSecretValue on it (%s)", id, ae.ErrorCode())
		case "DecryptionFailure":
			return fmt.Errorf("VEGA_SECRETS_MANAGER_SECRET_ID: secret %s cannot be decrypted: the role needs kms:Decrypt on the secret's KMS key", id)
		}
	}
	return fmt.Errorf("VEGA_SECRETS_MANAGER_SECRET_ID: cannot read secret %s: %w", id, err)
}
