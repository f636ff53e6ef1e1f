package awsemu

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

// TestEmulatorSpeaksWhatVegaUses pins the emulator behaviour Vega's tests rely
// on: multipart uploads, ranged and conditional GETs, SSE headers kept on the
// object, secrets, queues, and injected faults in each protocol.
func TestEmulatorSpeaksWhatVegaUses(t *testing.T) {
	ctx := context.Background()
	e := Start(t)
	bucket := Unique("b")
	e.CreateBucket(t, bucket)
	c := e.S3(t)

	part := bytes.Repeat([]byte("x"), 5<<20)
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("k"),
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("alias/vega")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []s3types.CompletedPart
	for i, body := range [][]byte{part, []byte("tail")} {
		n := int32(i + 1)
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("k"), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, s3types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("k"),
		UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(head.ContentLength) != int64(len(part)+4) || head.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms ||
		aws.ToString(head.SSEKMSKeyId) != "alias/vega" {
		t.Fatalf("head: size %d sse %q key %q", aws.ToInt64(head.ContentLength), head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId))
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"),
		Range: aws.String("bytes=5242878-5242881"), IfMatch: head.ETag})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(b) != "xxta" || aws.ToString(got.ContentRange) == "" {
		t.Fatalf("range read %q (Content-Range %q)", b, aws.ToString(got.ContentRange))
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), IfMatch: aws.String(`"other"`)}); err == nil {
		t.Fatal("If-Match with another ETag must fail")
	}

	secret := Unique("vega/test")
	arn := e.CreateSecret(t, secret, `{"VEGA_AUTH_SECRET":"s"}`)
	sm := secretsmanager.NewFromConfig(e.Config(t))
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)}); err != nil {
		t.Fatalf("get secret by ARN: %v", err)
	}
	if url := e.CreateQueue(t, Unique("scans"), nil); url == "" {
		t.Fatal("no queue URL")
	}

	deny := e.Inject(t, AccessDenied(Target("secretsmanager.GetSecretValue")))
	_, err = sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secret)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("want AccessDeniedException, got %v", err)
	}
	deny()
	denyS3 := e.Inject(t, AccessDenied(S3Object(http.MethodHead, bucket, "k")))
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		t.Fatalf("want 403, got %v", err)
	}
	denyS3()

	// Transient errors are retried by the SDK's standard retryer.
	f := Unavailable(S3Object(http.MethodGet, bucket, "k"), 2)
	e.Inject(t, f)
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("two 503s must be retried: %v", err)
	}
	out.Body.Close()
	if f.Hits() != 2 {
		t.Fatalf("fault answered %d requests, want 2", f.Hits())
	}
	if keys := e.Keys(t, bucket); len(keys) != 1 || keys[0] != "k" {
		t.Fatalf("keys %v", keys)
	}
}
