package llmproxy

import (
	"bufio"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/testutil/modelserver"
)

// The benchmarks interleave a direct call to the local model server with the
// same call through the proxy (token check, scan lookup, cap reservation,
// forwarding, usage accounting on a bolt store), so both see the same noise
// on a shared machine, and report both distributions and their difference:
//
//	go test -run '^$' -bench 'Overhead' -benchtime 3000x ./app/llmproxy/

// BenchmarkOverheadNonStreamed: full round trip of a plain Responses call.
func BenchmarkOverheadNonStreamed(b *testing.B) { benchNonStreamed(b, openBolt(b)) }

// BenchmarkOverheadNonStreamedPostgres: the same on Postgres, where the scan
// status read on every call is a database round trip (skips without
// VEGA_TEST_DATABASE_URL).
func BenchmarkOverheadNonStreamedPostgres(b *testing.B) { benchNonStreamed(b, openPostgres(b)) }

func benchNonStreamed(b *testing.B, st store.Store) {
	f := newFixtureOn(b, st, Config{}, modelserver.Queue(modelserver.Answer{Text: `{"ok":true}`, Usage: modelserver.Usage{InputTokens: 100, OutputTokens: 10}}))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	call := func(url, token string) time.Duration {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"model":"m","input":"hello"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		return d
	}
	interleave(b, func() time.Duration { return call(f.model.BaseURL()+"/responses", testKey) },
		func() time.Duration { return call(f.srv.URL+"/v1/responses", f.token) })
}

// BenchmarkOverheadFirstByte: time to the first SSE event of a streamed call.
// The upstream pauses 2 ms after each event, so a proxy that buffered would
// show it here.
func BenchmarkOverheadFirstByte(b *testing.B) {
	f := newFixture(b, Config{}, modelserver.Queue(modelserver.Answer{Text: "x", ChunkDelay: 2 * time.Millisecond}))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	call := func(url, token string) time.Duration {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"model":"m","stream":true}`))
		req.Header.Set("Authorization", "Bearer "+token)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		br := bufio.NewReader(resp.Body)
		if _, err := br.ReadString('\n'); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		_, _ = io.Copy(io.Discard, br)
		resp.Body.Close()
		return d
	}
	interleave(b, func() time.Duration { return call(f.model.BaseURL()+"/responses", testKey) },
		func() time.Duration { return call(f.srv.URL+"/v1/responses", f.token) })
}

func interleave(b *testing.B, direct, proxied func() time.Duration) {
	d := make([]time.Duration, 0, b.N)
	p := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			d = append(d, direct())
			p = append(p, proxied())
		} else {
			p = append(p, proxied())
			d = append(d, direct())
		}
	}
	b.StopTimer()
	dp50, dp99 := percentiles(d)
	pp50, pp99 := percentiles(p)
	b.ReportMetric(dp50, "direct-p50-µs")
	b.ReportMetric(pp50, "proxy-p50-µs")
	b.ReportMetric(pp50-dp50, "added-p50-µs")
	b.ReportMetric(dp99, "direct-p99-µs")
	b.ReportMetric(pp99, "proxy-p99-µs")
	b.ReportMetric(pp99-dp99, "added-p99-µs")
}

func percentiles(lat []time.Duration) (p50, p99 float64) {
	if len(lat) == 0 {
		return 0, 0
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	return us(lat[len(lat)/2]), us(lat[len(lat)*99/100])
}
