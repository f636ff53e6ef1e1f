package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// SocketName is the admin socket `vega serve` opens in its data directory
// while it holds a bolt store. Only the data directory's owner can reach it
// (the directory is 0700, the socket 0600): whoever may connect could read
// vega.db anyway, so the file system is the authentication (docs/backup.md).
const SocketName = "admin.sock"

// SocketPath is the admin socket of a data directory.
func SocketPath(dataDir string) string { return filepath.Join(dataDir, SocketName) }

// Serve answers GET /backup on the admin socket of dataDir with an archive
// of src, until Close. The caller holds the store, so a socket file left by
// a process that died is stale and is replaced.
func Serve(dataDir string, src Source, log *slog.Logger) (io.Closer, error) {
	p := SocketPath(dataDir)
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	ln, err := net.Listen("unix", p)
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", p, err)
	}
	if err := os.Chmod(p, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w.Header().Set("Content-Type", "application/gzip")
		m, err := Write(r.Context(), w, src)
		if err != nil {
			// The client verifies what it received, so a stream cut here is
			// refused there; the log says why.
			log.Error("backup failed", "err", err)
			return
		}
		log.Info("backup written", "files", len(m.Files), "blobs", m.Blobs, "store_bytes", m.StoreBytes,
			"content_bytes", m.ContentBytes, "took", time.Since(start).Round(time.Millisecond))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return closerFunc(func() error {
		err := srv.Close()
		os.Remove(p)
		return err
	}), nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// ErrNoServer means no server answers on the data directory's admin socket.
var ErrNoServer = errors.New("no vega server answers on the admin socket")

// Fetch asks the server of dataDir for a backup and copies it to w.
func Fetch(ctx context.Context, dataDir string, w io.Writer) error {
	p := SocketPath(dataDir)
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", p)
	}}}
	req, err := http.NewRequestWithContext(ctx, "GET", "http://vega-admin/backup", nil)
	if err != nil {
		return err
	}
	res, err := c.Do(req)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return ErrNoServer
		}
		return fmt.Errorf("admin socket %s: %w", p, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("admin socket %s: %s", p, res.Status)
	}
	_, err = io.Copy(w, res.Body)
	return err
}
