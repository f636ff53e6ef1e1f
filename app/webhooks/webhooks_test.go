package webhooks

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/bolt"
	"github.com/vegasec/vega/testutil/tempbolt"
)

func TestRetrySchedule(t *testing.T) {
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		if got := retryDelay(DefaultRetryBase, i+1); got != w {
			t.Errorf("retry %d waits %v, want %v", i+1, got, w)
		}
	}
	// Following the schedule, a delivery is retried until 24 h after it was
	// created and never after.
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now, n := created, 0
	for {
		n++
		next, ok := nextAttempt(DefaultRetryBase, created, now, n, 0)
		if !ok {
			break
		}
		if next.Sub(created) > RetryWindow {
			t.Fatalf("attempt %d scheduled %v after creation, past the 24 h window", n+1, next.Sub(created))
		}
		now = next
	}
	if span := now.Sub(created); span < 23*time.Hour || n > store.MaxDeliveryAttempts {
		t.Fatalf("gave up after %d attempts spanning %v; want retries for close to 24 h within %d attempts", n, span, store.MaxDeliveryAttempts)
	}
	// Retry-After replaces the wait, bounded.
	if next, _ := nextAttempt(DefaultRetryBase, created, created, 1, 5*time.Second); next.Sub(created) != 5*time.Second {
		t.Fatalf("Retry-After 5 s: next in %v", next.Sub(created))
	}
	if next, _ := nextAttempt(DefaultRetryBase, created, created, 1, 48*time.Hour); next.Sub(created) != maxDelay {
		t.Fatalf("huge Retry-After: next in %v, want the %v cap", next.Sub(created), maxDelay)
	}
}

func TestSignAndVerify(t *testing.T) {
	body := []byte(`{"event":"scan.completed"}`)
	at := time.Unix(1767225600, 0)
	h := Sign("whsec_k", at, body)
	if !strings.HasPrefix(h, "t=1767225600,v1=") || len(h) != len("t=1767225600,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	if err := Verify("whsec_k", h, body, at.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("valid signature refused: %v", err)
	}
	for name, c := range map[string]struct {
		secret, header string
		body           []byte
		now            time.Time
	}{
		"other secret":     {"whsec_x", h, body, at},
		"changed body":     {"whsec_k", h, []byte(`{"event":"scan.failed"}`), at},
		"replayed later":   {"whsec_k", h, body, at.Add(10 * time.Minute)},
		"timestamp moved":  {"whsec_k", strings.Replace(h, "t=1767225600", "t=1767225900", 1), body, at.Add(5 * time.Minute)},
		"no signature":     {"whsec_k", "t=1767225600", body, at},
		"malformed header": {"whsec_k", "garbage", body, at},
	} {
		if err := Verify(c.secret, c.header, c.body, c.now, 5*time.Minute); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSealer(t *testing.T) {
	s, err := NewSealer(strings.Repeat("k", 40))
	if err != nil {
		t.Fatal(err)
	}
	sealed := s.Seal("whk_1", "whsec_secret")
	if strings.Contains(string(sealed), "whsec_secret") {
		t.Fatal("sealed secret contains the plaintext")
	}
	if got, err := s.Open("whk_1", sealed); err != nil || got != "whsec_secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open("whk_2", sealed); err == nil {
		t.Fatal("a sealed secret opened for another webhook")
	}
	other, _ := NewSealer(strings.Repeat("z", 40))
	if _, err := other.Open("whk_1", sealed); err == nil {
		t.Fatal("a sealed secret opened with another key")
	}
	if _, err := NewSealer("short"); err == nil {
		t.Fatal("a short root secret was accepted")
	}
}

func TestSlackText(t *testing.T) {
	scan := &EventScan{ID: "scan_1", Status: store.ScanCompleted, FindingCounts: store.SeverityCounts{Critical: 1, High: 2}}
	ev := &Event{Event: store.WebhookScanCompleted, Project: EventProject{Name: "Payments <!channel>"},
		Repository: &EventRepo{Name: "api"}, Scan: scan}
	got := slackText(ev)
	want := ":white_check_mark: Vega scan completed in *Payments &lt;!channel&gt;* / api: 1 critical, 2 high\nScan `scan_1`"
	if got != want {
		t.Fatalf("completed:\n got %q\nwant %q", got, want)
	}
	ev = &Event{Event: store.WebhookFindingNew, Project: EventProject{Name: "P"}, FindingsTotal: 12, Scan: scan}
	for i := 0; i < 12; i++ {
		ev.Findings = append(ev.Findings, EventFinding{Severity: "high", Title: "AWS key", FilePath: "a`b.go", StartLine: i + 1})
	}
	got = slackText(ev)
	if !strings.HasPrefix(got, ":rotating_light: 12 new findings in *P*\n• *HIGH* AWS key — `a'b.go:1`") ||
		!strings.Contains(got, "\n…and 2 more") || strings.Count(got, "•") != 10 {
		t.Fatalf("finding.new:\n%s", got)
	}
	ev = &Event{Event: store.WebhookScanFailed, Project: EventProject{Name: "P"},
		Scan: &EventScan{ID: "scan_2", Error: &store.ScanError{Message: "clone failed"}}}
	if got := slackText(ev); got != ":x: Vega scan failed in *P*: clone failed\nScan `scan_2`" {
		t.Fatalf("failed: %q", got)
	}
	body, err := renderBody(store.WebhookFormatSlack, mustJSON(t, ev))
	if err != nil {
		t.Fatal(err)
	}
	var msg map[string]any
	if err := json.Unmarshal(body, &msg); err != nil || len(msg) != 1 || msg["text"] == "" {
		t.Fatalf("slack body %s (%v)", body, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// receiver is a local webhook endpoint that verifies every request.
type receiver struct {
	*httptest.Server
	secret string
	mu     sync.Mutex
	got    []received
	answer func(n int) int // status for the n-th request (1-based)
}

type received struct {
	event, delivery string
	body            []byte
	verified        error
}

func newReceiver(t testing.TB, answer func(n int) int) *receiver {
	r := &receiver{answer: answer}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		rec := received{event: req.Header.Get("Vega-Event"), delivery: req.Header.Get("Vega-Delivery"), body: body,
			verified: Verify(r.secret, req.Header.Get(SignatureHeader), body, time.Now(), 5*time.Minute)}
		r.got = append(r.got, rec)
		n := len(r.got)
		r.mu.Unlock()
		w.WriteHeader(r.answer(n))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

type fixture struct {
	st      *bolt.Store
	svc     *Service
	project *store.Project
	sealer  *Sealer
}

func newFixture(t *testing.T, allowPrivate bool) *fixture {
	st := tempbolt.Open(t)
	sealer, _ := NewSealer(strings.Repeat("s", 40))
	p := &store.Project{OwnerUserID: "usr_1", Name: "Payments"}
	if err := st.CreateProject(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, sealer: sealer, project: p,
		svc: New(st, Options{AllowPrivateHosts: allowPrivate, Sealer: sealer})}
}

func (f *fixture) deliverer(allowPrivate bool) *Deliverer {
	return NewDeliverer(f.st, f.sealer, DeliverOptions{AllowPrivateHosts: allowPrivate, RetryBase: 50 * time.Millisecond, Timeout: 2 * time.Second, Logger: quiet})
}

// deliverUntil runs delivery passes until cond holds or 5 s pass.
func deliverUntil(t *testing.T, d *Deliverer, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5 s")
		}
		if _, err := d.DeliverDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDeliverySignedAndRetriedAfter500(t *testing.T) {
	f := newFixture(t, true)
	rcv := newReceiver(t, func(n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	ctx := context.Background()
	w, err := f.svc.Create(ctx, store.OwnedBy("usr_1"), f.project.ID, Input{URL: rcv.URL + "/hook", Events: []string{store.WebhookScanCompleted}})
	if err != nil {
		t.Fatal(err)
	}
	rcv.secret = w.Secret
	if !strings.HasPrefix(w.Secret, secretPrefix) || w.MinSeverity != store.SeverityHigh || w.Format != store.WebhookFormatJSON {
		t.Fatalf("created %+v", w)
	}
	stored, _ := f.st.GetWebhook(ctx, store.System(), w.ID)
	if strings.Contains(string(stored.SecretSealed), w.Secret) {
		t.Fatal("the secret is stored in the clear")
	}
	scan := &store.Scan{ID: "scan_1", ProjectID: f.project.ID, RepositoryID: "repo_gone", Status: store.ScanCompleted,
		FindingCounts: store.SeverityCounts{High: 1}}
	NewNotifier(f.st, nil, nil).ScanEnded(ctx, scan)

	var del store.WebhookDelivery
	deliverUntil(t, f.deliverer(true), func() bool {
		ds, _, _ := f.st.ListWebhookDeliveries(ctx, store.System(), w.ID, store.Page{})
		if len(ds) == 1 {
			del = ds[0]
		}
		return del.Status == store.DeliverySucceeded
	})
	got := rcv.requests()
	if len(got) != 2 {
		t.Fatalf("receiver got %d requests, want 2 (a 500, then the retry)", len(got))
	}
	for _, r := range got {
		if r.verified != nil || r.event != store.WebhookScanCompleted || r.delivery != del.ID {
			t.Fatalf("request %+v", r)
		}
	}
	var ev Event
	if err := json.Unmarshal(got[1].body, &ev); err != nil || ev.ID != del.ID || ev.Scan.ID != "scan_1" ||
		ev.Project.Name != "Payments" || ev.SchemaVersion != 1 || ev.Scan.FindingCounts.High != 1 {
		t.Fatalf("payload %s (%v)", got[1].body, err)
	}
	if len(del.Attempts) != 2 || del.Attempts[0].ResponseCode != 500 || del.Attempts[0].Error == "" ||
		del.Attempts[1].ResponseCode != 204 || del.Attempts[1].Error != "" {
		t.Fatalf("attempt log %+v", del.Attempts)
	}
	if gap := del.Attempts[1].At.Sub(del.Attempts[0].At); gap < 50*time.Millisecond {
		t.Fatalf("retried after %v, before the backoff", gap)
	}
}

func TestLoopbackRefusedWithoutOptIn(t *testing.T) {
	rcv := newReceiver(t, func(int) int { return 204 })
	ctx := context.Background()
	f := newFixture(t, false)
	for _, u := range []string{rcv.URL, strings.Replace(rcv.URL, "http:", "https:", 1), "https://localhost/x", "https://10.0.0.1/x"} {
		_, err := f.svc.Create(ctx, store.OwnedBy("usr_1"), f.project.ID, Input{URL: u, Events: []string{store.WebhookScanFailed}})
		if !apperr.IsCode(err, apperr.HostNotAllowed) && !apperr.IsCode(err, apperr.ValidationFailed) {
			t.Fatalf("%s accepted without VEGA_WEBHOOK_ALLOW_PRIVATE_HOSTS: %v", u, err)
		}
	}
	// Metadata and link-local addresses stay refused with the opt-in.
	fa := newFixture(t, true)
	for _, u := range []string{"https://169.254.169.254/latest", "http://[fe80::1]/x", "https://metadata.google.internal/x"} {
		_, err := fa.svc.Create(ctx, store.OwnedBy("usr_1"), fa.project.ID, Input{URL: u, Events: []string{store.WebhookScanFailed}})
		if !apperr.IsCode(err, apperr.HostNotAllowed) {
			t.Fatalf("%s: %v, want host_not_allowed", u, err)
		}
	}
	// The dial-time check: a webhook registered while private hosts were
	// allowed is refused by a deliverer without the opt-in, before any byte
	// is sent (what DNS rebinding would otherwise exploit).
	w, err := fa.svc.Create(ctx, store.OwnedBy("usr_1"), fa.project.ID, Input{URL: rcv.URL, Events: []string{store.WebhookScanFailed}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fa.svc.SendTest(ctx, store.OwnedBy("usr_1"), w.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := fa.deliverer(false).DeliverDue(ctx); n != 1 || err != nil {
		t.Fatalf("DeliverDue = %d, %v", n, err)
	}
	ds, _, _ := fa.st.ListWebhookDeliveries(ctx, store.System(), w.ID, store.Page{})
	if len(rcv.requests()) != 0 || len(ds[0].Attempts) != 1 || !strings.Contains(ds[0].Attempts[0].Error, "not allowed") ||
		ds[0].Status != store.DeliveryPending {
		t.Fatalf("loopback delivery without the opt-in: %d requests, %+v", len(rcv.requests()), ds[0])
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	target := newReceiver(t, func(int) int { return 204 })
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	f := newFixture(t, true)
	ctx := context.Background()
	w, err := f.svc.Create(ctx, store.OwnedBy("usr_1"), f.project.ID, Input{URL: redirect.URL, Events: []string{store.WebhookScanFailed}, Format: "slack"})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.SendTest(ctx, store.OwnedBy("usr_1"), w.ID)
	f.deliverer(true).DeliverDue(ctx)
	ds, _, _ := f.st.ListWebhookDeliveries(ctx, store.System(), w.ID, store.Page{})
	if len(target.requests()) != 0 || ds[0].Attempts[0].ResponseCode != 307 || !strings.Contains(ds[0].Attempts[0].Error, "redirects are not followed") {
		t.Fatalf("redirect: target got %d, attempts %+v", len(target.requests()), ds[0].Attempts)
	}
}

func TestFindingNewHonoursMinSeverity(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	repo := &store.Repository{ProjectID: f.project.ID, OwnerUserID: "usr_1", Name: "api"}
	if err := f.st.CreateRepository(ctx, repo); err != nil {
		t.Fatal(err)
	}
	scan := &store.Scan{ID: store.NewID(store.PrefixScan), ProjectID: f.project.ID, RepositoryID: repo.ID, OwnerUserID: "usr_1",
		Status: store.ScanCompleted, CreatedAt: time.Now()}
	if err := f.st.CreateScan(ctx, scan); err != nil {
		t.Fatal(err)
	}
	add := func(sev, firstSeen, status string) {
		fd := &store.Finding{ID: store.NewID(store.PrefixFinding), RepositoryID: repo.ID, ProjectID: f.project.ID, OwnerUserID: "usr_1",
			Fingerprint: store.NewID("fp_"), Engine: "secrets", Title: sev + " finding", Severity: sev, Status: status,
			ScanID: scan.ID, FirstSeenScanID: firstSeen, LastSeenScanID: scan.ID, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := f.st.CreateFinding(ctx, fd); err != nil {
			t.Fatal(err)
		}
		if err := f.st.PutScanFinding(ctx, store.ScanFinding{ScanID: scan.ID, Key: fd.ID, FindingID: fd.ID}); err != nil {
			t.Fatal(err)
		}
	}
	add(store.SeverityCritical, scan.ID, store.FindingOpen)
	add(store.SeverityHigh, scan.ID, store.FindingOpen)
	add(store.SeverityLow, scan.ID, store.FindingOpen)           // below min
	add(store.SeverityCritical, "scan_older", store.FindingOpen) // not new
	add(store.SeverityCritical, scan.ID, store.FindingDismissed) // suppressed in source
	sc := store.OwnedBy("usr_1")
	high, _ := f.svc.Create(ctx, sc, f.project.ID, Input{URL: "http://127.0.0.1:9/a", Events: []string{store.WebhookFindingNew}, MinSeverity: "high"})
	info, _ := f.svc.Create(ctx, sc, f.project.ID, Input{URL: "http://127.0.0.1:9/b", Events: []string{store.WebhookFindingNew, store.WebhookScanFailed}, MinSeverity: "info"})
	NewNotifier(f.st, nil, nil).ScanEnded(ctx, scan)
	check := func(w *Created, wantTotal int, wantSevs ...string) {
		t.Helper()
		ds, _, err := f.st.ListWebhookDeliveries(ctx, store.System(), w.ID, store.Page{})
		if err != nil || len(ds) != 1 || ds[0].Event != store.WebhookFindingNew {
			t.Fatalf("deliveries %+v %v, want one finding.new", ds, err)
		}
		var ev Event
		json.Unmarshal(ds[0].Payload, &ev)
		var sevs []string
		for _, x := range ev.Findings {
			sevs = append(sevs, x.Severity)
		}
		if ev.FindingsTotal != wantTotal || strings.Join(sevs, ",") != strings.Join(wantSevs, ",") || ev.Repository.Name != "api" {
			t.Fatalf("finding.new to min %s: total %d, severities %v", w.MinSeverity, ev.FindingsTotal, sevs)
		}
	}
	check(high, 2, "critical", "high")
	check(info, 3, "critical", "high", "low")
}

var quiet = slog.New(slog.DiscardHandler)
