package server

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vegasec/vega/auth"
)

// LocalSecret returns the secret stored in <dataDir>/secrets/<name>, creating
// it (0600) on first use (a config.LocalSecretFunc). Only the local runtime
// does this; elsewhere secrets come from the environment or Secrets Manager.
func LocalSecret(dataDir, name string) (string, error) {
	dir := SecretsDir(dataDir)
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	s := auth.RandomToken(32)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process won the race
		b, err := os.ReadFile(p)
		return strings.TrimSpace(string(b)), err
	}
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return "", err
	}
	return s, f.Close()
}

// SecretsDir is where LocalSecret keeps the generated secrets (a backup
// copies it with the store).
func SecretsDir(dataDir string) string { return filepath.Join(dataDir, "secrets") }
