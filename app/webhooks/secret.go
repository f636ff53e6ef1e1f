package webhooks

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// secretPrefix marks a webhook signing secret, so one pasted into the
// wrong place is recognisable (and caught by secret scanners).
const secretPrefix = "whsec_"

// newSecret returns a fresh signing secret: 32 random bytes.
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return secretPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// Sealer encrypts signing secrets at rest (AES-256-GCM). Its key is derived
// from VEGA_AUTH_SECRET, which every api process already has, so a copy of
// the database alone does not reveal a secret; rotating VEGA_AUTH_SECRET
// makes stored secrets unreadable and their webhooks must be recreated
// (docs/webhooks.md).
type Sealer struct{ aead cipher.AEAD }

// NewSealer derives the sealing key from rootSecret (≥ 32 characters).
func NewSealer(rootSecret string) (*Sealer, error) {
	if len(rootSecret) < 32 {
		return nil, errors.New("webhooks: the sealing secret is shorter than 32 characters")
	}
	key, err := hkdf.Key(sha256.New, []byte(rootSecret), nil, "vega webhook signing secrets v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts secret, bound to the webhook's ID (a sealed secret copied
// onto another webhook's row does not open).
func (s *Sealer) Seal(webhookID, secret string) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, []byte(secret), []byte(webhookID))
}

// Open decrypts what Seal returned for the same webhook.
func (s *Sealer) Open(webhookID string, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("webhooks: sealed secret is truncated")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(webhookID))
	if err != nil {
		return "", fmt.Errorf("webhooks: cannot open the signing secret of %s (was VEGA_AUTH_SECRET rotated?)", webhookID)
	}
	return string(plain), nil
}
