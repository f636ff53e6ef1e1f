package llmproxy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Scan tokens are "vst1.<payload>.<mac>": payload is base64url JSON
// {scan_id, exp}, mac is HMAC-SHA256 over "vst1.<payload>" with a key derived
// from the admin token. Deriving (instead of using the admin token directly)
// keeps the admin secret from ever being a MAC key that other code might reuse.
const tokenPrefix = "vst1."

var (
	errTokenMalformed = errors.New("malformed scan token")
	errTokenSignature = errors.New("scan token signature mismatch")
	errTokenExpired   = errors.New("scan token expired")
)

// tokenClaims bind a token to exactly one scan, or to one repository's
// threat-profile generation (which runs before any scan exists).
type tokenClaims struct {
	ScanID       string `json:"scan_id,omitempty"`
	RepositoryID string `json:"repository_id,omitempty"`
	Exp          int64  `json:"exp"`
}

type signer struct{ key []byte }

func newSigner(adminToken string) signer {
	m := hmac.New(sha256.New, []byte(adminToken))
	m.Write([]byte("vega llm-proxy scan token signing key v1"))
	return signer{key: m.Sum(nil)}
}

func (s signer) mac(msg string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func (s signer) sign(c tokenClaims) string {
	payload, _ := json.Marshal(c) // a struct of a string and an int cannot fail
	head := tokenPrefix + base64.RawURLEncoding.EncodeToString(payload)
	return head + "." + base64.RawURLEncoding.EncodeToString(s.mac(head))
}

func (s signer) verify(tok string, now time.Time) (tokenClaims, error) {
	if !strings.HasPrefix(tok, tokenPrefix) || len(tok) > 1024 {
		return tokenClaims{}, errTokenMalformed
	}
	dot := strings.LastIndexByte(tok, '.')
	if dot <= len(tokenPrefix) {
		return tokenClaims{}, errTokenMalformed
	}
	head, sig := tok[:dot], tok[dot+1:]
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return tokenClaims{}, errTokenMalformed
	}
	if !hmac.Equal(got, s.mac(head)) {
		return tokenClaims{}, errTokenSignature
	}
	payload, err := base64.RawURLEncoding.DecodeString(head[len(tokenPrefix):])
	if err != nil {
		return tokenClaims{}, errTokenMalformed
	}
	var c tokenClaims
	if err := json.Unmarshal(payload, &c); err != nil || (c.ScanID == "") == (c.RepositoryID == "") {
		return tokenClaims{}, errTokenMalformed
	}
	if now.Unix() >= c.Exp {
		return tokenClaims{}, errTokenExpired
	}
	return c, nil
}
