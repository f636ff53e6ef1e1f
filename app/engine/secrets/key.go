package secrets

import (
	"crypto/sha256"
	"encoding/hex"
)

// secretKey is the stable identity of a secret: rule id plus a short hash, so
// the same credential found again in a later scan maps to the same finding.
// The hash is domain-separated so it cannot be compared with plain SHA-256
// digests of the value published elsewhere.
func secretKey(ruleID, secret string) string {
	sum := sha256.Sum256([]byte("vega/secrets/v1\x00" + secret))
	return ruleID + ":" + hex.EncodeToString(sum[:8])
}
