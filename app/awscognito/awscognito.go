// Package awscognito reads users' attributes from a Cognito user pool
// (AdminGetUser) for auth.CognitoDirectory: access tokens carry neither
// email nor name (docs/auth.md). The api role needs cognito-idp:AdminGetUser
// on the pool.
package awscognito

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/vegasec/vega/auth"
)

// Directory is one user pool.
type Directory struct {
	client *cip.Client
	pool   string
}

// New reads pool with the process's AWS configuration.
func New(cfg aws.Config, pool string) *Directory {
	return &Directory{client: cip.NewFromConfig(cfg), pool: pool}
}

// Profile returns the user's email (and whether Cognito verified it) and name.
func (d *Directory) Profile(ctx context.Context, username string) (*auth.CognitoProfile, error) {
	out, err := d.client.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(d.pool), Username: aws.String(username)})
	if err != nil {
		return nil, fmt.Errorf("AdminGetUser in pool %s: %w", d.pool, err)
	}
	attrs := map[string]string{}
	for _, a := range out.UserAttributes {
		attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	p := &auth.CognitoProfile{Email: attrs["email"], EmailVerified: attrs["email_verified"] == "true", Name: attrs["name"]}
	if p.Name == "" {
		p.Name = attrs["preferred_username"]
	}
	return p, nil
}
