package llmproxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/testutil/modelserver"
)

func TestProfileTokensAreBoundToAGeneratingProfile(t *testing.T) {
	f := newFixture(t, Config{}, modelserver.Queue(modelserver.Answer{Text: "{}", Usage: modelserver.Usage{InputTokens: 40, OutputTokens: 2}}))
	ctx := context.Background()
	repoID := f.scan.RepositoryID
	put := func(status string) {
		if err := f.st.PutThreatProfile(ctx, &store.ThreatProfile{ID: store.NewID(store.PrefixProfile), RepositoryID: repoID, OwnerUserID: f.scan.OwnerUserID,
			Status: status, Source: store.ProfileSourceGenerated, UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	llm, err := RemoteTokenSource{ProxyURL: f.srv.URL, AdminToken: testAdmin}.ProfileToken(ctx, repoID)
	if err != nil {
		t.Fatal(err)
	}
	// No profile row yet: refused.
	resp := f.post(t, "/v1/responses", llm.Token, `{"model":"m"}`)
	if e := decodeError(t, resp); resp.StatusCode != 403 || e.Error.Code != "vega_scan_not_active" {
		t.Fatalf("%d %+v", resp.StatusCode, e)
	}
	put(store.ProfileGenerating)
	resp = f.post(t, "/v1/responses", llm.Token, `{"model":"m"}`)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	f.flush(t)
	recs := usageRecords(t, f.st, f.scan.OwnerUserID)
	if len(recs) != 1 || recs[0].ScanID != "" || recs[0].ProjectID != f.scan.ProjectID || recs[0].InputTokens != 40 {
		t.Errorf("profile usage record = %+v", recs)
	}
	if s, _ := f.st.GetScan(ctx, store.System(), f.scan.ID); s.Usage.Requests != 0 {
		t.Errorf("profile usage landed on a scan: %+v", s.Usage)
	}
	put(store.ProfileReady)
	resp = f.post(t, "/v1/responses", llm.Token, `{"model":"m"}`)
	if resp.StatusCode != 403 {
		t.Errorf("profile no longer generating: status %d", resp.StatusCode)
	}
	resp.Body.Close()
	if _, _, err := f.proxy.MintProfile(ctx, f.scan.ID); err == nil {
		t.Error("MintProfile accepted a scan id")
	}
}

func TestListenAndServeShutsDownGracefully(t *testing.T) {
	st := openBolt(t)
	p := New(Config{ProviderBaseURL: "http://127.0.0.1:1/v1", AdminToken: testAdmin}, st)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.ListenAndServe(ctx, addr, 2*time.Second) }()
	var resp *http.Response
	for range 50 {
		if resp, err = http.Get("http://" + addr + "/healthz"); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ListenAndServe = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ListenAndServe did not return after cancel")
	}
}
