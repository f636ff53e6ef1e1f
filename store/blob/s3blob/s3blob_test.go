package s3blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/vegasec/vega/store/blob"
	"github.com/vegasec/vega/store/blob/blobtest"
	"github.com/vegasec/vega/store/blob/s3blob"
	"github.com/vegasec/vega/testutil/awsemu"
)

var ctx = context.Background()

// buckets makes a fresh pair of buckets per call.
func buckets(t *testing.T, e *awsemu.Emulator) (string, string) {
	t.Helper()
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(t.Name()))
	name = strings.Trim(name[max(0, len(name)-40):], "-")
	src, art := "src-"+name, "art-"+name
	e.CreateBucket(t, src)
	e.CreateBucket(t, art)
	return src, art
}

func newStore(t *testing.T, e *awsemu.Emulator, api s3blob.API, opt s3blob.Options) *s3blob.Store {
	t.Helper()
	if opt.SourceBucket == "" {
		opt.SourceBucket, opt.ArtifactsBucket = buckets(t, e)
	}
	if api == nil {
		api = e.S3(t)
	}
	s, err := s3blob.New(api, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	e := awsemu.Start(t)
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t, e, nil, s3blob.Options{}) })
}

// One bucket for both roles works too, and lists each key once.
func TestContractOneBucket(t *testing.T) {
	e := awsemu.Start(t)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		b, _ := buckets(t, e)
		return newStore(t, e, nil, s3blob.Options{SourceBucket: b, ArtifactsBucket: b})
	})
}

// Source code goes to the source bucket, everything else to the artifacts
// bucket, and every object is encrypted the configured way.
func TestRoutingAndEncryption(t *testing.T) {
	e := awsemu.Start(t)
	client := e.S3(t)
	for _, kms := range []string{"", "arn:aws:kms:us-east-1:123456789012:key/vega-test"} {
		t.Run(fmt.Sprintf("kms=%v", kms != ""), func(t *testing.T) {
			src, art := buckets(t, e)
			s := newStore(t, e, nil, s3blob.Options{SourceBucket: src, ArtifactsBucket: art, KMSKeyID: kms})
			small, large := []byte("manifest"), 9<<20
			keys := map[string]string{
				blob.SnapshotKey("r", "s"): src, blob.ManifestKey("r", "s"): src, blob.UploadKey("r"): src,
				blob.ArtifactKey("sc", "report.json"): art, "exports/x.csv": art,
			}
			for k := range keys {
				var body io.Reader = bytes.NewReader(small)
				if k == blob.SnapshotKey("r", "s") {
					body = io.LimitReader(zeros{}, int64(large)) // multipart
				}
				if _, err := s.Put(ctx, k, body); err != nil {
					t.Fatal(err)
				}
			}
			for k, bucket := range keys {
				h, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
				if err != nil {
					t.Fatalf("%s not in %s: %v", k, bucket, err)
				}
				wantAlg := types.ServerSideEncryptionAes256
				if kms != "" {
					wantAlg = types.ServerSideEncryptionAwsKms
				}
				if h.ServerSideEncryption != wantAlg || aws.ToString(h.SSEKMSKeyId) != kms {
					t.Fatalf("%s: encryption %q key %q, want %q %q", k, h.ServerSideEncryption, aws.ToString(h.SSEKMSKeyId), wantAlg, kms)
				}
			}
			if got := e.Keys(t, src); len(got) != 3 {
				t.Fatalf("source bucket holds %v", got)
			}
			if got := e.Keys(t, art); len(got) != 2 {
				t.Fatalf("artifacts bucket holds %v", got)
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// S3 failures become blob.ErrUnavailable (the API's 503); a missing key stays
// ErrNotFound; transient errors are retried by the SDK.
func TestErrors(t *testing.T) {
	e := awsemu.Start(t)
	src, art := buckets(t, e)
	s := newStore(t, e, nil, s3blob.Options{SourceBucket: src, ArtifactsBucket: art})
	key := blob.ArtifactKey("scan_1", "report.json")
	if _, err := s.Put(ctx, key, strings.NewReader("{}")); err != nil {
		t.Fatal(err)
	}

	flaky := awsemu.Unavailable(awsemu.S3Object(http.MethodGet, art, "scans/"), 2)
	e.Inject(t, flaky)
	o, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(o); err != nil || string(b) != "{}" {
		t.Fatalf("two 503s then success: %q, %v", b, err)
	}
	o.Close()
	if flaky.Hits() != 2 {
		t.Fatalf("fault hit %d times", flaky.Hits())
	}

	remove := e.Inject(t, awsemu.AccessDenied(awsemu.S3Object("", art, "")))
	for name, err := range map[string]error{
		"open":   func() error { _, err := s.Open(ctx, key); return err }(),
		"put":    func() error { _, err := s.Put(ctx, key, strings.NewReader("x")); return err }(),
		"delete": s.Delete(ctx, key),
		"list":   func() error { _, err := s.List(ctx, "scans/"); return err }(),
		"prefix": s.DeletePrefix(ctx, "scans/scan_1/"),
		"ping":   s.Ping(ctx),
	} {
		if !errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("%s with access denied: %v, want ErrUnavailable", name, err)
		}
	}
	remove()
	// Multipart: a part that keeps failing aborts the upload; nothing appears.
	e.Inject(t, &awsemu.Fault{Match: func(r *http.Request) bool {
		return awsemu.S3Object(http.MethodPut, src, "snapshots/")(r) && r.URL.Query().Get("partNumber") == "2"
	}, Status: http.StatusInternalServerError, Code: "InternalError", Message: "boom"})
	_, err = s.Put(ctx, blob.SnapshotKey("r", "s"), io.LimitReader(zeros{}, 20<<20))
	if !errors.Is(err, blob.ErrUnavailable) {
		t.Fatalf("failing part: %v", err)
	}
	ups, lerr := e.S3(t).ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(src)})
	if lerr != nil {
		t.Fatal(lerr)
	}
	if len(ups.Uploads) != 0 {
		t.Fatalf("%d multipart uploads left open", len(ups.Uploads))
	}
	if _, err := s.Open(ctx, blob.SnapshotKey("r", "s")); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("failed multipart left an object: %v", err)
	}
	// Deleted between Open and Read: not found, not a 503.
	o, err = s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(o); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("read of a deleted object: %v", err)
	}
}

// countingAPI discards uploaded parts and records how they were sent.
type countingAPI struct {
	s3blob.API
	inFlight, maxInFlight atomic.Int64
	parts                 atomic.Int64
	partSizes             sync.Map
	ranges                atomic.Int64
}

func (c *countingAPI) CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String("u")}, nil
}

func (c *countingAPI) UploadPart(_ context.Context, in *s3.UploadPartInput, _ ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	n := c.inFlight.Add(1)
	defer c.inFlight.Add(-1)
	for m := c.maxInFlight.Load(); n > m && !c.maxInFlight.CompareAndSwap(m, n); m = c.maxInFlight.Load() {
	}
	b, _ := io.Copy(io.Discard, in.Body)
	c.partSizes.Store(*in.PartNumber, b)
	c.parts.Add(1)
	// A part "uploads" for a moment, as on a network: with an instant one
	// the next part may never start before this one returns on a loaded
	// machine, and the in-flight count would not show the concurrency
	// (flaked once in CI: 1 in flight).
	time.Sleep(3 * time.Millisecond)
	return &s3.UploadPartOutput{ETag: aws.String(fmt.Sprint(*in.PartNumber))}, nil
}

func (c *countingAPI) CompleteMultipartUpload(_ context.Context, in *s3.CompleteMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	for i, p := range in.MultipartUpload.Parts {
		if *p.PartNumber != int32(i+1) {
			return nil, fmt.Errorf("parts out of order: %d at %d", *p.PartNumber, i)
		}
	}
	return &s3.CompleteMultipartUploadOutput{}, nil
}

// A large Put never holds the object: the bytes it allocates are bounded by
// the part buffers ((Concurrency+1) × PartSize), whatever the object's size.
func TestPutMemoryIsBounded(t *testing.T) {
	api := &countingAPI{}
	s, err := s3blob.New(api, s3blob.Options{SourceBucket: "s", ArtifactsBucket: "a"})
	if err != nil {
		t.Fatal(err)
	}
	const size = 200<<20 + 7
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := s.Put(ctx, blob.UploadKey("r"), io.LimitReader(zeros{}, size))
	runtime.ReadMemStats(&after)
	if err != nil || n != size {
		t.Fatalf("put: %d, %v", n, err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	limit := uint64(s3blob.DefaultConcurrency+1)*s3blob.DefaultPartSize + 4<<20
	if alloc > limit {
		t.Fatalf("a %d MiB put allocated %d MiB (limit %d MiB)", size>>20, alloc>>20, limit>>20)
	}
	if got := api.parts.Load(); got != size/s3blob.DefaultPartSize+1 {
		t.Fatalf("%d parts", got)
	}
	if m := api.maxInFlight.Load(); m > s3blob.DefaultConcurrency || m < 2 {
		t.Fatalf("%d parts in flight at once, want 2..%d", m, s3blob.DefaultConcurrency)
	}
	t.Logf("200 MiB put allocated %.1f MiB, %d parts in flight at most", float64(alloc)/(1<<20), api.maxInFlight.Load())
}

// rangeCounter counts ranged GETs.
type rangeCounter struct {
	s3blob.API
	ranged, whole atomic.Int64
}

func (r *rangeCounter) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if in.Range != nil {
		r.ranged.Add(1)
	} else {
		r.whole.Add(1)
	}
	return r.API.GetObject(ctx, in, opts...)
}

// Small ReadAt calls (what archive/zip issues) are served from a read-ahead
// window: reading 4 MiB in 4 KiB steps costs a handful of ranged GETs and no
// whole-object download.
func TestReadAtUsesRangedWindows(t *testing.T) {
	e := awsemu.Start(t)
	rc := &rangeCounter{API: e.S3(t)}
	s := newStore(t, e, rc, s3blob.Options{})
	key := blob.SnapshotKey("r", "s")
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	if _, err := s.Put(ctx, key, bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	o, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	p := make([]byte, 4096)
	for off := int64(0); off < int64(len(body)); off += int64(len(p)) {
		n, err := o.ReadAt(p, off)
		if (err != nil && err != io.EOF) || !bytes.Equal(p[:n], body[off:off+int64(n)]) {
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
	}
	if rc.whole.Load() != 0 || rc.ranged.Load() != 4 {
		t.Fatalf("%d ranged and %d whole GETs for 1024 reads of 4 KiB; want 4 windows of 1 MiB", rc.ranged.Load(), rc.whole.Load())
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	for _, o := range []s3blob.Options{{}, {SourceBucket: "a"}, {SourceBucket: "a", ArtifactsBucket: "b", PartSize: 1 << 20}} {
		if _, err := s3blob.New(nil, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}
