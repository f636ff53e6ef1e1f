package llmproxy

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/testutil/modelserver"
)

const (
	testKey   = "sk-test-PROVIDERKEY-0123456789abcdef"
	testAdmin = "admin-token-for-tests"
)

type fixture struct {
	model *modelserver.Server
	proxy *Proxy
	srv   *httptest.Server
	st    store.Store
	scan  *store.Scan
	token string
}

func newFixture(t testing.TB, cfg Config, script modelserver.Script, opts ...Option) *fixture {
	t.Helper()
	return newFixtureOn(t, openBolt(t), cfg, script, opts...)
}

func newFixtureOn(t testing.TB, st store.Store, cfg Config, script modelserver.Script, opts ...Option) *fixture {
	t.Helper()
	ms := modelserver.New(script)
	t.Cleanup(ms.Close)
	scan := seedScan(t, st)
	cfg.ProviderBaseURL = ms.BaseURL()
	cfg.ProviderAPIKey = testKey
	cfg.AdminToken = testAdmin
	if cfg.PriceUSDPer1K == 0 {
		cfg.PriceUSDPer1K = 0.01
	}
	p := New(cfg, st, opts...)
	t.Cleanup(p.Close)
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	tok, _, err := p.Mint(context.Background(), scan.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{model: ms, proxy: p, srv: srv, st: st, scan: scan, token: tok}
}

// flush waits for the proxy's background usage writer.
func (f *fixture) flush(t testing.TB) {
	t.Helper()
	if err := f.proxy.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) post(t testing.TB, path, token, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("OpenAI-Organization", "org-chosen-by-the-runner")
	req.Header.Set("Cookie", "session=runner")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

type openAIError struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    string `json:"code"`
	} `json:"error"`
}

func decodeError(t testing.TB, resp *http.Response) openAIError {
	t.Helper()
	defer resp.Body.Close()
	var e openAIError
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("error body is not OpenAI-shaped JSON: %v", err)
	}
	return e
}

func TestStreamedResponsesAreForwardedAndAccounted(t *testing.T) {
	f := newFixture(t, Config{}, modelserver.Queue(modelserver.Answer{
		Text: `{"ok":true}`, Usage: modelserver.Usage{InputTokens: 1200, CachedTokens: 200, OutputTokens: 300},
	}))
	resp := f.post(t, "/v1/responses", f.token, `{"model":"gpt-test","stream":true,"input":"hi"}`)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	for _, ev := range []string{"response.created", "response.output_item.done", "response.completed"} {
		if !strings.Contains(string(body), "event: "+ev) {
			t.Errorf("stream lacks %s", ev)
		}
	}
	reqs := f.model.Requests()
	if len(reqs) != 1 {
		t.Fatalf("upstream got %d requests", len(reqs))
	}
	if got := reqs[0].Header.Get("Authorization"); got != "Bearer "+testKey {
		t.Errorf("upstream Authorization = %q, want the provider key", got)
	}
	if strings.Contains(string(reqs[0].Body), f.token) {
		t.Error("scan token leaked upstream")
	}
	for _, h := range []string{"OpenAI-Organization", "Cookie"} {
		if v := reqs[0].Header.Get(h); v != "" {
			t.Errorf("runner header %s reached upstream: %q", h, v)
		}
	}
	f.flush(t)
	recs := usageRecords(t, f.st, f.scan.OwnerUserID)
	if len(recs) != 1 {
		t.Fatalf("%d usage records", len(recs))
	}
	r := recs[0]
	if r.Requests != 1 || r.InputTokens != 1200 || r.CachedInputTokens != 200 || r.OutputTokens != 300 || r.Model != "gpt-test" {
		t.Errorf("usage record = %+v", r)
	}
	if r.ScanID != f.scan.ID || r.ProjectID != f.scan.ProjectID || r.UserID != f.scan.OwnerUserID {
		t.Errorf("usage record not tied to the scan: %+v", r)
	}
	if want := 1500.0 / 1000 * 0.01; r.CostUSD < want-1e-9 || r.CostUSD > want+1e-9 {
		t.Errorf("cost = %v, want %v", r.CostUSD, want)
	}
	f.flush(t)
	s, _ := f.st.GetScan(context.Background(), store.System(), f.scan.ID)
	if s.Usage.Requests != 1 || s.Usage.InputTokens != 1200 || s.Usage.OutputTokens != 300 {
		t.Errorf("scan usage = %+v", s.Usage)
	}
}

func TestPlainResponsesAndChatCompletionsAreAccounted(t *testing.T) {
	f := newFixture(t, Config{Prices: map[string]Price{"priced": {Input: 2, Cached: 1, Output: 10}}},
		modelserver.Queue(modelserver.Answer{Text: "x", Usage: modelserver.Usage{InputTokens: 1000, CachedTokens: 400, OutputTokens: 100}}))
	for _, c := range []struct{ path, body string }{
		{"/v1/responses", `{"model":"priced","input":"hi"}`},
		{"/v1/chat/completions", `{"model":"priced","messages":[{"role":"user","content":"hi"}]}`},
		{"/v1/chat/completions", `{"model":"priced","stream":true,"messages":[{"role":"user","content":"hi"}]}`},
	} {
		resp := f.post(t, c.path, f.token, c.body)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.path, resp.StatusCode, b)
		}
	}
	f.flush(t)
	recs := usageRecords(t, f.st, f.scan.OwnerUserID)
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	want := (600*2.0 + 400*1.0 + 100*10.0) / 1e6
	for i, r := range recs {
		if r.InputTokens != 1000 || r.CachedInputTokens != 400 || r.OutputTokens != 100 {
			t.Errorf("record %d tokens = %+v", i, r.Usage)
		}
		if r.CostUSD < want-1e-12 || r.CostUSD > want+1e-12 {
			t.Errorf("record %d cost = %v, want %v (per-model price)", i, r.CostUSD, want)
		}
	}
}

func TestRejectsBadTokensAndInactiveScans(t *testing.T) {
	now := time.Now()
	f := newFixture(t, Config{TokenTTL: time.Minute}, modelserver.Queue(modelserver.Answer{Text: "x"}))

	forged := f.token[:len(f.token)-2] + "AA"
	other := New(Config{AdminToken: "another-admin", ProviderBaseURL: "http://x"}, f.st)
	defer other.Close()
	otherTok, _, _ := other.Mint(context.Background(), f.scan.ID)
	expired := New(Config{AdminToken: testAdmin, ProviderBaseURL: "http://x", TokenTTL: time.Minute}, f.st,
		WithClock(func() time.Time { return now.Add(-2 * time.Minute) }))
	defer expired.Close()
	expiredTok, _, _ := expired.Mint(context.Background(), f.scan.ID)

	for name, tok := range map[string]string{"empty": "", "garbage": "abc", "forged": forged, "other key": otherTok, "provider key": testKey} {
		resp := f.post(t, "/v1/responses", tok, `{"model":"m"}`)
		if resp.StatusCode != 401 {
			t.Errorf("%s token: status %d, want 401", name, resp.StatusCode)
		}
		decodeError(t, resp)
	}
	resp := f.post(t, "/v1/responses", expiredTok, `{"model":"m"}`)
	if e := decodeError(t, resp); resp.StatusCode != 401 || e.Error.Code != "vega_scan_token_expired" {
		t.Errorf("expired token: %d %+v", resp.StatusCode, e)
	}

	for _, mut := range []func(*store.Scan){
		func(s *store.Scan) { s.Status = store.ScanCompleted },
		func(s *store.Scan) { s.Status = store.ScanQueued },
		func(s *store.Scan) { s.Status = store.ScanRunning; t := time.Now(); s.CancelRequestedAt = &t },
	} {
		_, _ = f.st.UpdateScan(context.Background(), store.System(), f.scan.ID, func(s *store.Scan) error { mut(s); return nil })
		resp := f.post(t, "/v1/responses", f.token, `{"model":"m"}`)
		if e := decodeError(t, resp); resp.StatusCode != 403 || e.Error.Code != "vega_scan_not_active" {
			t.Errorf("inactive scan: %d %+v", resp.StatusCode, e)
		}
	}
	if _, err := f.st.UpdateScan(context.Background(), store.System(), f.scan.ID, func(s *store.Scan) error {
		s.Status, s.CancelRequestedAt = store.ScanRunning, nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	resp = f.post(t, "/v1/responses", f.token, `{"model":"m","background":true}`)
	if e := decodeError(t, resp); resp.StatusCode != 400 || e.Error.Code != "vega_background_not_allowed" {
		t.Errorf("background response: %d %+v", resp.StatusCode, e)
	}
	if n := len(f.model.Requests()); n != 0 {
		t.Errorf("rejected requests reached upstream %d times", n)
	}
}

func TestRequestCapHoldsUnderConcurrency(t *testing.T) {
	t.Run("bolt", func(t *testing.T) { testRequestCap(t, openBolt(t)) })
	t.Run("postgres", func(t *testing.T) { testRequestCap(t, openPostgres(t)) })
}

func testRequestCap(t *testing.T, st store.Store) {
	// A slow upstream keeps all 20 requests in flight at once, so admission
	// must count reservations, not finished calls.
	f := newFixtureOn(t, st, Config{MaxRequestsPerScan: 10}, modelserver.Queue(modelserver.Answer{
		Text: "x", Usage: modelserver.Usage{InputTokens: 1, OutputTokens: 1}, ChunkDelay: 50 * time.Millisecond,
	}))
	var ok, capped atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := f.post(t, "/v1/responses", f.token, `{"model":"m","stream":true}`)
			switch resp.StatusCode {
			case 200:
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				ok.Add(1)
			case 429:
				if e := decodeError(t, resp); e.Error.Code != "vega_scan_budget_exceeded" {
					t.Errorf("429 code = %q", e.Error.Code)
				}
				capped.Add(1)
			default:
				t.Errorf("status %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 10 || capped.Load() != 10 {
		t.Errorf("passed %d, capped %d; want 10 and 10", ok.Load(), capped.Load())
	}
	if n := len(f.model.Requests()); n != 10 {
		t.Errorf("upstream saw %d requests, want 10", n)
	}
	f.flush(t)
	s, _ := f.st.GetScan(context.Background(), store.System(), f.scan.ID)
	if s.Usage.Requests != 10 {
		t.Errorf("scan usage requests = %d", s.Usage.Requests)
	}
}

func TestTokenAndCostCapsStopTheScan(t *testing.T) {
	for name, cfg := range map[string]Config{
		"tokens": {MaxTokensPerScan: 1500},
		"cost":   {MaxCostUSDPerScan: 0.015, PriceUSDPer1K: 0.01},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, cfg, modelserver.Queue(modelserver.Answer{Text: "x", Usage: modelserver.Usage{InputTokens: 900, OutputTokens: 100}}))
			for i, want := range []int{200, 200, 429, 429} {
				resp := f.post(t, "/v1/responses", f.token, `{"model":"m"}`)
				if resp.StatusCode != want {
					t.Fatalf("request %d: status %d, want %d", i, resp.StatusCode, want)
				}
				if want == 429 {
					if e := decodeError(t, resp); e.Error.Code != "vega_scan_budget_exceeded" || e.Error.Type == "" || e.Error.Message == "" {
						t.Errorf("budget error = %+v", e)
					}
				} else {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		})
	}
}

func TestCapsSeePersistedUsage(t *testing.T) {
	// A proxy restart must not reset a scan's budget: the store's totals count.
	f := newFixture(t, Config{MaxRequestsPerScan: 5}, modelserver.Queue(modelserver.Answer{Text: "x"}))
	_, _ = f.st.UpdateScan(context.Background(), store.System(), f.scan.ID, func(s *store.Scan) error { s.Usage.Requests = 5; return nil })
	resp := f.post(t, "/v1/responses", f.token, `{"model":"m"}`)
	if resp.StatusCode != 429 {
		t.Fatalf("status %d, want 429", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestUpstreamErrorsAreScrubbedOfTheKey(t *testing.T) {
	echo := `{"error":{"message":"Incorrect API key provided: ` + testKey + `. Also sk-te***cdef","type":"invalid_request_error","code":"invalid_api_key"}}`
	f := newFixture(t, Config{}, modelserver.Queue(modelserver.Answer{Status: 401, ErrorBody: echo}))
	resp := f.post(t, "/v1/responses", f.token, `{"model":"m","stream":true}`)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("status %d", resp.StatusCode)
	}
	if strings.Contains(string(b), testKey) || strings.Contains(string(b), "sk-te") {
		t.Fatalf("provider key leaked: %s", b)
	}
	if !strings.Contains(string(b), "[redacted]") {
		t.Errorf("body = %s", b)
	}
	f.flush(t)
	if recs := usageRecords(t, f.st, f.scan.OwnerUserID); len(recs) != 1 || recs[0].Requests != 1 || recs[0].InputTokens != 0 {
		t.Errorf("a failed call is one request without tokens: %+v", recs)
	}
}

func TestUnreachableUpstreamIsA502WithoutDetails(t *testing.T) {
	st := openBolt(t)
	scan := seedScan(t, st)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	p := New(Config{ProviderBaseURL: deadURL + "/v1", ProviderAPIKey: testKey, AdminToken: testAdmin}, st)
	defer p.Close()
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	tok, _, _ := p.Mint(context.Background(), scan.ID)
	f := &fixture{srv: srv}
	resp := f.post(t, "/v1/responses", tok, `{"model":"m"}`)
	e := decodeError(t, resp)
	if resp.StatusCode != 502 || strings.Contains(e.Error.Message, deadURL) {
		t.Errorf("%d %+v", resp.StatusCode, e)
	}
	// The reservation was released: the next call is admitted again.
	p.ledger.mu.Lock()
	defer p.ledger.mu.Unlock()
	if l := p.ledger.scans[scan.ID]; l == nil || l.inFlight != 0 {
		t.Errorf("reservation leaked: %+v", l)
	}
}

func TestMintEndpointAndRemoteClient(t *testing.T) {
	f := newFixture(t, Config{}, modelserver.Queue(modelserver.Answer{Text: "hello"}))
	if _, err := MintRemote(context.Background(), f.srv.URL, "wrong-admin", f.scan.ID); err == nil {
		t.Fatal("minting with a wrong admin token succeeded")
	}
	if _, err := MintRemote(context.Background(), f.srv.URL, testAdmin, "not-a-scan"); err == nil {
		t.Fatal("minting for a non-scan id succeeded")
	}
	ts := RemoteTokenSource{ProxyURL: f.srv.URL + "/", AdminToken: testAdmin}
	llm, err := ts.ScanToken(context.Background(), f.scan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if llm.BaseURL != f.srv.URL {
		t.Errorf("BaseURL = %q", llm.BaseURL)
	}
	resp := f.post(t, "/v1/responses", llm.Token, `{"model":"m"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("remote-minted token refused: %d", resp.StatusCode)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err := ts.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s, _ := f.st.GetScan(context.Background(), store.System(), f.scan.ID); s.Usage.Requests != 1 {
		t.Errorf("usage not written after a remote flush: %+v", s.Usage)
	}
	if err := (RemoteTokenSource{ProxyURL: f.srv.URL, AdminToken: "wrong"}).Flush(context.Background()); err == nil {
		t.Error("flush with a wrong admin token succeeded")
	}

	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+llm.Token)
	mresp, err := http.DefaultClient.Do(req)
	if err != nil || mresp.StatusCode != 200 {
		t.Fatalf("models: %v %v", err, mresp.StatusCode)
	}
	b, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if !strings.Contains(string(b), "test-model") {
		t.Errorf("models body = %s", b)
	}
}

func TestLoopbackServerAndLocalTokenSource(t *testing.T) {
	ms := modelserver.New(modelserver.Queue(modelserver.Answer{Text: "hi", Usage: modelserver.Usage{InputTokens: 5, OutputTokens: 5}}))
	defer ms.Close()
	st := openBolt(t)
	scan := seedScan(t, st)
	p := New(Config{ProviderBaseURL: ms.BaseURL(), ProviderAPIKey: testKey, AdminToken: testAdmin}, st)
	defer p.Close()
	ls, err := p.ServeLoopback()
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close(context.Background())
	llm, err := ls.TokenSource(p).ScanToken(context.Background(), scan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(llm.BaseURL, "http://127.0.0.1:") {
		t.Errorf("BaseURL = %q", llm.BaseURL)
	}
	f := &fixture{srv: &httptest.Server{URL: llm.BaseURL}}
	resp := f.post(t, "/v1/responses", llm.Token, `{"model":"m"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestStreamIsNotBuffered(t *testing.T) {
	// Upstream waits 300 ms between events; the first event must reach the
	// client long before the stream ends.
	f := newFixture(t, Config{}, modelserver.Queue(modelserver.Answer{Text: "slow", ChunkDelay: 300 * time.Millisecond}))
	start := time.Now()
	resp := f.post(t, "/v1/responses", f.token, `{"model":"m","stream":true}`)
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "event: response.created") {
		t.Fatalf("first line %q %v", line, err)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("first event after %v: the proxy is buffering", d)
	}
}

// The token dies at the moment of cancel: the call right after Cancel (the
// API's verb, app/scans) is refused, with no clock moving in between. Then
// the same for a scan that ended (Finish) without a cancel.
func TestCancelledScanIsRefusedOnTheNextCall(t *testing.T) {
	t.Run("bolt", func(t *testing.T) { testRefusedOnTheNextCall(t, openBolt(t)) })
	t.Run("postgres", func(t *testing.T) { testRefusedOnTheNextCall(t, openPostgres(t)) })
}

func testRefusedOnTheNextCall(t *testing.T, st store.Store) {
	frozen := time.Now()
	f := newFixtureOn(t, st, Config{}, modelserver.Queue(modelserver.Answer{Text: "x"}), WithClock(func() time.Time { return frozen }))
	call := func() *http.Response { return f.post(t, "/v1/responses", f.token, `{"model":"m"}`) }
	resp := call()
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d before the cancel", resp.StatusCode)
	}
	svc := scans.New(st, scans.Options{})
	if _, err := svc.Cancel(context.Background(), store.System(), f.scan.OwnerUserID, f.scan.ID); err != nil {
		t.Fatal(err)
	}
	resp = call()
	if e := decodeError(t, resp); resp.StatusCode != 403 || e.Error.Code != "vega_scan_not_active" {
		t.Errorf("first call after the cancel: %d %+v", resp.StatusCode, e)
	}

	// A second scan that completes: its token dies with the Finish.
	done := seedScan(t, st)
	tok, _, err := f.proxy.Mint(context.Background(), done.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateScan(context.Background(), store.System(), done.ID, func(s *store.Scan) error {
		started := time.Now()
		s.Attempt, s.StartedAt = 1, &started
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Finish(context.Background(), done.ID, 1, scans.Outcome{}); err != nil {
		t.Fatal(err)
	}
	resp = f.post(t, "/v1/responses", tok, `{"model":"m"}`)
	if e := decodeError(t, resp); resp.StatusCode != 403 || e.Error.Code != "vega_scan_not_active" {
		t.Errorf("first call after the scan completed: %d %+v", resp.StatusCode, e)
	}
}

// The runner (app/runner) consumes these through its own interfaces.
var (
	_ TokenSource        = LocalTokenSource{}
	_ TokenSource        = RemoteTokenSource{}
	_ ProfileTokenSource = LocalTokenSource{}
	_ ProfileTokenSource = RemoteTokenSource{}
	_ interface {
		Flush(context.Context) error
	} = RemoteTokenSource{}
)
