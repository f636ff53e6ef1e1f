package api

import (
	"bytes"
	"compress/gzip"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

// The dashboard's files are embedded and never change while the process runs,
// so each is compressed once, on its first request, and the encoded bytes are
// kept in memory (docs/benchmarks.md, "Dashboard assets over the wire").

// minCompressSize: below this the encoding headers cost more than they save.
const minCompressSize = 512

// encodedAsset is one file in each encoding worth sending.
type encodedAsset struct {
	once     sync.Once
	raw      []byte
	gzip, br []byte // nil when compression does not make the file smaller
}

func (a *encodedAsset) encode() {
	a.once.Do(func() {
		if len(a.raw) < minCompressSize {
			return
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(a.raw)
		_ = zw.Close()
		if gz.Len() < len(a.raw) {
			a.gzip = gz.Bytes()
		}
		var br bytes.Buffer
		bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
		_, _ = bw.Write(a.raw)
		_ = bw.Close()
		if br.Len() < len(a.raw) {
			a.br = br.Bytes()
		}
	})
}

// assetCache holds the encoded files by path. It grows only with paths that
// exist in the embedded file system, so a client cannot make it grow.
type assetCache struct{ m sync.Map } // path -> *encodedAsset

func (c *assetCache) get(p string, raw []byte) *encodedAsset {
	v, _ := c.m.LoadOrStore(p, &encodedAsset{raw: raw})
	a := v.(*encodedAsset)
	a.encode()
	return a
}

// pick returns the body and its Content-Encoding ("" = identity) for an
// Accept-Encoding header: the acceptable coding with the highest q-value,
// brotli before gzip on a tie. Identity is the fallback: it wins only when
// nothing else is acceptable or the client lists it with a strictly higher
// q-value (RFC 9110 §12.5.3).
func (a *encodedAsset) pick(acceptEncoding string) ([]byte, string) {
	q, explicit := acceptQ(acceptEncoding)
	best, body, qBest := "", a.raw, 0.0
	if a.br != nil && q("br") > qBest {
		best, body, qBest = "br", a.br, q("br")
	}
	if a.gzip != nil && q("gzip") > qBest {
		best, body, qBest = "gzip", a.gzip, q("gzip")
	}
	if explicit("identity") && q("identity") > qBest {
		return a.raw, ""
	}
	return body, best
}

// acceptQ parses Accept-Encoding into a lookup of each coding's q-value.
// Unlisted codings take the `*` value; identity is acceptable (q 1) unless
// refused explicitly or through `*;q=0`. A missing header accepts identity only.
func acceptQ(h string) (q func(string) float64, listed func(string) bool) {
	vals := map[string]float64{}
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		qv := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
					qv = f
				} else {
					qv = 0 // a malformed q-value does not opt in
				}
			}
		}
		if name == "x-gzip" {
			name = "gzip"
		}
		vals[name] = qv
	}
	listed = func(coding string) bool { _, ok := vals[coding]; return ok }
	return func(coding string) float64 {
		if v, ok := vals[coding]; ok {
			return v
		}
		if v, ok := vals["*"]; ok {
			return v
		}
		if coding == "identity" {
			return 1
		}
		return 0
	}, listed
}
