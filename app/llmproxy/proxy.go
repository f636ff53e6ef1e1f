package llmproxy

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/vegasec/vega/store"
)

// Store is the part of store.Store the proxy uses; any store.Store fits.
type Store interface {
	GetScan(ctx context.Context, sc store.Scope, id string) (*store.Scan, error)
	GetRepository(ctx context.Context, sc store.Scope, id string) (*store.Repository, error)
	GetThreatProfile(ctx context.Context, sc store.Scope, repositoryID string) (*store.ThreatProfile, error)
	UpdateScan(ctx context.Context, sc store.Scope, id string, fn func(*store.Scan) error) (*store.Scan, error)
	CreateUsageRecord(ctx context.Context, r *store.UsageRecord) error
}

// Proxy is the LLM proxy. Create it with New and serve Handler.
type Proxy struct {
	cfg      Config
	st       Store
	signer   signer
	ledger   *ledger
	upstream *url.URL
	rp       *httputil.ReverseProxy
	now      func() time.Time
	log      *slog.Logger
	scrubber *strings.Replacer
	acct     *accountant
}

// Option customises a Proxy.
type Option func(*Proxy)

// WithClock replaces time.Now (token expiry tests).
func WithClock(now func() time.Time) Option { return func(p *Proxy) { p.now = now } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(p *Proxy) { p.log = l } }

// New builds a proxy. cfg.ProviderBaseURL must be an absolute http(s) URL;
// an invalid one makes every forwarded request fail with 502, which Validate
// reports up front.
func New(cfg Config, st Store, opts ...Option) *Proxy {
	cfg = cfg.withDefaults()
	up, _ := url.Parse(strings.TrimRight(cfg.ProviderBaseURL, "/"))
	if up == nil {
		up = &url.URL{}
	}
	p := &Proxy{
		cfg:      cfg,
		st:       st,
		signer:   newSigner(cfg.AdminToken),
		ledger:   newLedger(caps{requests: cfg.MaxRequestsPerScan, tokens: cfg.MaxTokensPerScan, costUSD: cfg.MaxCostUSDPerScan}),
		upstream: up,
		now:      time.Now,
		log:      slog.Default(),
	}
	if cfg.ProviderAPIKey != "" {
		p.scrubber = strings.NewReplacer(cfg.ProviderAPIKey, "[redacted]")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 64
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      tr,
		FlushInterval:  -1, // flush after every write: streams are never held back
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.upstreamError,
	}
	for _, o := range opts {
		o(p)
	}
	p.acct = newAccountant(st, p.log)
	return p
}

// Flush waits until the usage of every finished call is in the store. The
// runner calls it before reading a scan's final usage; tests call it before
// asserting on the store.
func (p *Proxy) Flush(ctx context.Context) error { return p.acct.flush(ctx) }

// Close writes pending usage and stops the background writer. Serve no
// requests after Close.
func (p *Proxy) Close() { p.acct.close() }

// Validate reports configuration that cannot work, naming the variable.
func (c Config) Validate() error {
	u, err := url.Parse(c.ProviderBaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("VEGA_LLM_PROVIDER_BASE_URL: must be an absolute http(s) URL")
	}
	if c.AdminToken == "" {
		return errors.New("VEGA_LLM_PROXY_ADMIN_TOKEN: required to sign scan tokens")
	}
	return nil
}

// Mint issues a scan-scoped token (the in-process path of POST /internal/scan-tokens).
func (p *Proxy) Mint(ctx context.Context, scanID string) (string, time.Time, error) {
	if !store.HasPrefix(scanID, store.PrefixScan) {
		return "", time.Time{}, fmt.Errorf("llmproxy: %q is not a scan id", scanID)
	}
	return p.mint(tokenClaims{ScanID: scanID}, "scan tokens")
}

// MintProfile issues a token for generating one repository's threat profile
// (POST /internal/profile-tokens). It is accepted while the profile's status
// is "generating"; usage is billed to the repository's project, with no scan.
func (p *Proxy) MintProfile(ctx context.Context, repositoryID string) (string, time.Time, error) {
	if !store.HasPrefix(repositoryID, store.PrefixRepo) {
		return "", time.Time{}, fmt.Errorf("llmproxy: %q is not a repository id", repositoryID)
	}
	return p.mint(tokenClaims{RepositoryID: repositoryID}, "tokens")
}

// mint signs c with the configured token lifetime; what names the tokens in
// the error when no admin token is configured to sign them with.
func (p *Proxy) mint(c tokenClaims, what string) (string, time.Time, error) {
	if p.cfg.AdminToken == "" {
		return "", time.Time{}, errors.New("llmproxy: no admin token configured, cannot sign " + what)
	}
	exp := p.now().Add(p.cfg.TokenTTL).Truncate(time.Second)
	c.Exp = exp.Unix()
	return p.signer.sign(c), exp, nil
}

// Handler serves the proxy's routes.
func (p *Proxy) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/responses", p.forwardModelCall)
	mux.HandleFunc("POST /v1/chat/completions", p.forwardModelCall)
	mux.HandleFunc("GET /v1/models", p.forwardModels)
	mux.HandleFunc("POST /internal/scan-tokens", p.mintHandler("scan_id", p.Mint))
	mux.HandleFunc("POST /internal/profile-tokens", p.mintHandler("repository_id", p.MintProfile))
	mux.HandleFunc("POST /internal/flush", p.flushHandler)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "not_found", "No such route on the Vega LLM proxy")
	})
	return mux
}

func (p *Proxy) adminOK(w http.ResponseWriter, r *http.Request) bool {
	got, ok := bearer(r)
	if !ok || p.cfg.AdminToken == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.cfg.AdminToken)) != 1 {
		writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_admin_token", "A valid admin token is required")
		return false
	}
	return true
}

// flushHandler lets a remote runner wait until every finished call's usage
// is in the store before it writes the scan's summary.
func (p *Proxy) flushHandler(w http.ResponseWriter, r *http.Request) {
	if !p.adminOK(w, r) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	if err := p.Flush(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, "server_error", "vega_unavailable", "Usage is still being written")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// mintHandler answers a minting route whose body is {field: id}.
func (p *Proxy) mintHandler(field string, mint func(context.Context, string) (string, time.Time, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !p.adminOK(w, r) {
			return
		}
		var req map[string]string
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil || req[field] == "" {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "bad_request", "Body must be {\""+field+"\": \"…\"}")
			return
		}
		tok, exp, err := mint(r.Context(), req[field])
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "bad_request", field+" is not a valid id")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_at": exp.UTC()})
	}
}

// subject is who a model call is accounted to: a scan, or a repository's
// profile generation.
type subject struct {
	ledgerKey string
	scanID    string // "" for profile generation
	projectID string
	userID    string
	persisted store.Usage // usage already on the scan, for caps across restarts
}

// authorize checks the token and that its scan (or profile generation) is
// still active. It returns the subject or writes the error and returns nil.
func (p *Proxy) authorize(w http.ResponseWriter, r *http.Request) *subject {
	tok, ok := bearer(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "Missing scan token")
		return nil
	}
	claims, err := p.signer.verify(tok, p.now())
	if err != nil {
		code := "invalid_api_key"
		if errors.Is(err, errTokenExpired) {
			code = "vega_scan_token_expired"
		}
		writeError(w, http.StatusUnauthorized, "invalid_request_error", code, "Invalid scan token: "+err.Error())
		return nil
	}
	if claims.RepositoryID != "" {
		return p.authorizeProfile(w, r, claims.RepositoryID)
	}
	// Read on every call, never cached: a cancelled or finished scan's token
	// is refused on the very next request, whichever process cancelled it
	// (docs/benchmarks.md, "LLM proxy", has what the read costs).
	scan, err := p.st.GetScan(r.Context(), store.System(), claims.ScanID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusUnauthorized, "invalid_request_error", "vega_scan_not_active", "The scan of this token does not exist")
			return nil
		}
		p.log.Error("llm proxy: reading scan", "scan_id", claims.ScanID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "server_error", "vega_unavailable", "The proxy cannot read the scan right now")
		return nil
	}
	if (scan.Status != store.ScanClaimed && scan.Status != store.ScanRunning) || scan.CancelRequestedAt != nil {
		writeError(w, http.StatusForbidden, "invalid_request_error", "vega_scan_not_active", "The scan of this token is no longer running")
		return nil
	}
	return &subject{ledgerKey: scan.ID, scanID: scan.ID, projectID: scan.ProjectID, userID: scan.OwnerUserID, persisted: scan.Usage}
}

func (p *Proxy) authorizeProfile(w http.ResponseWriter, r *http.Request, repoID string) *subject {
	repo, err := p.st.GetRepository(r.Context(), store.System(), repoID)
	var tp *store.ThreatProfile
	if err == nil {
		tp, err = p.st.GetThreatProfile(r.Context(), store.System(), repoID)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		p.log.Error("llm proxy: reading repository", "repository_id", repoID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "server_error", "vega_unavailable", "The proxy cannot read the repository right now")
		return nil
	}
	if err != nil || tp.Status != store.ProfileGenerating {
		writeError(w, http.StatusForbidden, "invalid_request_error", "vega_scan_not_active", "No threat profile is being generated for this token")
		return nil
	}
	return &subject{ledgerKey: "profile:" + repo.ID, projectID: repo.ProjectID, userID: repo.OwnerUserID}
}

// modelRequest is what the proxy reads from a model call body.
type modelRequest struct {
	Model         string          `json:"model"`
	Stream        bool            `json:"stream"`
	StreamOptions json.RawMessage `json:"stream_options"`
	Background    bool            `json:"background"`
}

type ctxKey struct{}

// callState follows one forwarded model call from admission to accounting.
type callState struct {
	sub      *subject
	model    string
	reserved bool
	done     bool
}

func (p *Proxy) forwardModelCall(w http.ResponseWriter, r *http.Request) {
	sub := p.authorize(w, r)
	if sub == nil {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.cfg.MaxRequestBodyBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large", "Request body too large or unreadable")
		return
	}
	var mr modelRequest
	if err := json.Unmarshal(body, &mr); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_json", "Request body is not JSON")
		return
	}
	if mr.Background {
		// A background response finishes after this request ends, so its
		// usage would never pass through the proxy: unaccountable spend.
		writeError(w, http.StatusBadRequest, "invalid_request_error", "vega_background_not_allowed", "Background responses are not allowed through the Vega proxy")
		return
	}
	if r.URL.Path == "/v1/chat/completions" && mr.Stream && len(mr.StreamOptions) == 0 {
		// Streamed chat completions only report usage when asked to; ask, so
		// the call can be accounted. Codex speaks Responses, so this is rare.
		body = withIncludeUsage(body)
	}
	if err := p.ledger.reserve(sub.ledgerKey, sub.persisted, p.now()); err != nil {
		p.log.Info("llm proxy: over budget", "subject", sub.ledgerKey, "reason", err.Error())
		writeError(w, http.StatusTooManyRequests, "insufficient_quota", "vega_scan_budget_exceeded",
			"This scan's LLM budget is exhausted ("+err.Error()+")")
		return
	}
	st := &callState{sub: sub, model: mr.Model, reserved: true}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, st))
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Del("Content-Length")
	p.rp.ServeHTTP(w, r)
}

func (p *Proxy) forwardModels(w http.ResponseWriter, r *http.Request) {
	if p.authorize(w, r) == nil {
		return
	}
	p.rp.ServeHTTP(w, r)
}

func withIncludeUsage(body []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	m["stream_options"] = json.RawMessage(`{"include_usage":true}`)
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// rewrite points the request at the provider with the real key. Nothing of
// the runner's credentials or cookies travels upstream.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	out := pr.Out
	out.URL.Scheme = p.upstream.Scheme
	out.URL.Host = p.upstream.Host
	out.URL.Path = p.upstream.Path + strings.TrimPrefix(pr.In.URL.Path, "/v1")
	out.URL.RawPath = ""
	out.URL.RawQuery = pr.In.URL.RawQuery
	out.Host = p.upstream.Host
	out.Header.Del("Cookie")
	out.Header.Del("Authorization")
	// These select which organisation/project the provider bills under the
	// same key; the runner has no say in that.
	out.Header.Del("OpenAI-Organization")
	out.Header.Del("OpenAI-Project")
	// Let the transport negotiate compression itself so it also decompresses:
	// usage parsing and key scrubbing need plain bytes.
	out.Header.Del("Accept-Encoding")
	if p.cfg.ProviderAPIKey != "" {
		out.Header.Set("Authorization", "Bearer "+p.cfg.ProviderAPIKey)
	}
}

// maxErrorBody bounds how much of an upstream error response is read to scrub it.
const maxErrorBody = 1 << 20

// sk-style key fragments some providers echo back ("Incorrect API key provided: sk-ab***wxyz").
var keyLike = regexp.MustCompile(`\b(sk|rk|pk)-[A-Za-z0-9_\-*.]{4,}`)

func (p *Proxy) modifyResponse(resp *http.Response) error {
	st, _ := resp.Request.Context().Value(ctxKey{}).(*callState)
	if resp.StatusCode >= 400 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
		b = p.scrub(b)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", fmt.Sprint(len(b)))
		resp.Header.Del("Transfer-Encoding")
		if st != nil {
			p.finishCall(st, parsedUsage{}, false)
		}
		return nil
	}
	if st == nil { // /v1/models: not a model call, nothing to account
		return nil
	}
	ct := resp.Header.Get("Content-Type")
	resp.Body = &usageTap{
		body: resp.Body,
		sse:  strings.HasPrefix(ct, "text/event-stream"),
		onDone: func(u parsedUsage, found bool) {
			p.finishCall(st, u, found)
		},
	}
	return nil
}

func (p *Proxy) scrub(b []byte) []byte {
	s := string(b)
	if p.scrubber != nil {
		s = p.scrubber.Replace(s)
	}
	return []byte(keyLike.ReplaceAllString(s, "[redacted]"))
}

func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if st, _ := r.Context().Value(ctxKey{}).(*callState); st != nil {
		p.finishCall(st, parsedUsage{}, false)
	}
	if r.Context().Err() != nil {
		return // the runner went away; nobody is listening
	}
	// The transport error names the upstream URL at most, never the key, but
	// the runner has no business knowing either.
	p.log.Warn("llm proxy: upstream request failed", "err", err)
	writeError(w, http.StatusBadGateway, "server_error", "upstream_unavailable", "The model provider could not be reached")
}

// finishCall settles the reservation with the call's usage and queues the
// usage record and the scan's running total for the store. It runs once per
// admitted call.
func (p *Proxy) finishCall(st *callState, u parsedUsage, found bool) {
	if st.done {
		return
	}
	st.done = true
	model := u.model
	if model == "" {
		model = st.model
	}
	usage := store.Usage{
		Requests:          1,
		InputTokens:       u.input,
		CachedInputTokens: u.cached,
		OutputTokens:      u.output,
		CostUSD:           p.cfg.Cost(model, u.input, u.cached, u.output),
	}
	p.ledger.settle(st.sub.ledgerKey, usage)
	if !found {
		p.log.Warn("llm proxy: response carried no usage; counted as one request without tokens", "subject", st.sub.ledgerKey, "model", model)
	}
	p.acct.add(&store.UsageRecord{
		ID:        store.NewID(store.PrefixUsage),
		ScanID:    st.sub.scanID,
		ProjectID: st.sub.projectID,
		UserID:    st.sub.userID,
		Model:     model,
		Usage:     usage,
		At:        p.now().UTC(),
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return strings.TrimSpace(tok), ok && tok != ""
}

// writeError answers in OpenAI's error shape, which Codex and SDKs understand.
func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": map[string]any{"message": msg, "type": typ, "code": code, "param": nil},
	})
}
