package llmproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/vegasec/vega/app/engine"
)

// TokenSource gives a runner the LLM endpoint of one scan: the proxy's base
// URL (without /v1) and a token bound to the scan.
type TokenSource interface {
	ScanToken(ctx context.Context, scanID string) (engine.LLM, error)
}

// ProfileTokenSource gives the threat-profile generator an LLM endpoint for
// one repository (valid while its profile is "generating").
type ProfileTokenSource interface {
	ProfileToken(ctx context.Context, repositoryID string) (engine.LLM, error)
}

// LocalTokenSource mints in-process, for the api server hosting the proxy on
// a loopback listener (local mode). BaseURL is that listener's URL.
type LocalTokenSource struct {
	Proxy   *Proxy
	BaseURL string
}

func (s LocalTokenSource) ScanToken(ctx context.Context, scanID string) (engine.LLM, error) {
	tok, _, err := s.Proxy.Mint(ctx, scanID)
	if err != nil {
		return engine.LLM{}, err
	}
	return engine.LLM{BaseURL: s.BaseURL, Token: tok}, nil
}

func (s LocalTokenSource) ProfileToken(ctx context.Context, repositoryID string) (engine.LLM, error) {
	tok, _, err := s.Proxy.MintProfile(ctx, repositoryID)
	if err != nil {
		return engine.LLM{}, err
	}
	return engine.LLM{BaseURL: s.BaseURL, Token: tok}, nil
}

// Flush waits until the proxy has written the usage of every finished call
// (the runner calls it before reading the scan's final usage).
func (s LocalTokenSource) Flush(ctx context.Context) error { return s.Proxy.Flush(ctx) }

// RemoteTokenSource mints through POST /internal/scan-tokens of a standalone
// `vega llm-proxy`.
type RemoteTokenSource struct {
	ProxyURL   string
	AdminToken string
}

func (s RemoteTokenSource) ScanToken(ctx context.Context, scanID string) (engine.LLM, error) {
	tok, err := MintRemote(ctx, s.ProxyURL, s.AdminToken, scanID)
	if err != nil {
		return engine.LLM{}, err
	}
	return engine.LLM{BaseURL: strings.TrimRight(s.ProxyURL, "/"), Token: tok}, nil
}

func (s RemoteTokenSource) ProfileToken(ctx context.Context, repositoryID string) (engine.LLM, error) {
	tok, err := mintRemote(ctx, s.ProxyURL, s.AdminToken, "/internal/profile-tokens", "repository_id", repositoryID)
	if err != nil {
		return engine.LLM{}, err
	}
	return engine.LLM{BaseURL: strings.TrimRight(s.ProxyURL, "/"), Token: tok}, nil
}

// Flush asks the remote proxy to write pending usage (POST /internal/flush).
func (s RemoteTokenSource) Flush(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(s.ProxyURL, "/")+"/internal/flush", nil)
	if err != nil {
		return fmt.Errorf("llmproxy: flush request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.AdminToken)
	resp, err := mintClient.Do(req)
	if err != nil {
		return fmt.Errorf("llmproxy: flush: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("llmproxy: flush: HTTP %d", resp.StatusCode)
	}
	return nil
}

var mintClient = &http.Client{Timeout: 40 * time.Second}

// MintRemote asks a proxy for a scan token with the admin token.
func MintRemote(ctx context.Context, proxyURL, adminToken, scanID string) (string, error) {
	return mintRemote(ctx, proxyURL, adminToken, "/internal/scan-tokens", "scan_id", scanID)
}

func mintRemote(ctx context.Context, proxyURL, adminToken, route, field, id string) (string, error) {
	body, _ := json.Marshal(map[string]string{field: id})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(proxyURL, "/")+route, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("llmproxy: mint request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := mintClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("llmproxy: minting a scan token: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return "", fmt.Errorf("llmproxy: minting a scan token: HTTP %d: %s", resp.StatusCode, e.Error.Message)
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Token == "" {
		return "", fmt.Errorf("llmproxy: minting a scan token: malformed answer")
	}
	return out.Token, nil
}

// LocalServer is the proxy served on a loopback port inside another process.
type LocalServer struct {
	URL string // http://127.0.0.1:PORT, without /v1
	srv *http.Server
}

// ServeLoopback starts the proxy on 127.0.0.1 with a free port, for local
// mode where the api server hosts it. Close stops it.
func (p *Proxy) ServeLoopback() (*LocalServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("llmproxy: loopback listener: %w", err)
	}
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &LocalServer{URL: "http://" + ln.Addr().String(), srv: srv}, nil
}

// TokenSource returns the in-process token source for this server (it also
// implements ProfileTokenSource).
func (s *LocalServer) TokenSource(p *Proxy) LocalTokenSource {
	return LocalTokenSource{Proxy: p, BaseURL: s.URL}
}

// ListenAndServe runs the proxy standalone (`vega llm-proxy`) on addr until
// ctx ends, then stops taking requests, lets open streams finish for up to
// grace, and writes pending usage.
func (p *Proxy) ListenAndServe(ctx context.Context, addr string, grace time.Duration) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("llmproxy: listen on %s (VEGA_LLM_PROXY_LISTEN_ADDR): %w", addr, err)
	}
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	p.log.Info("llm proxy listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		p.Close()
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err = srv.Shutdown(sctx)
	p.Close()
	if errors.Is(err, context.DeadlineExceeded) {
		return nil // streams cut at the grace limit; their usage is written
	}
	return err
}

// Close shuts the server down, waiting up to the context for open streams.
func (s *LocalServer) Close(ctx context.Context) error { return s.srv.Shutdown(ctx) }
