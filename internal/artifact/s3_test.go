package artifact

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/flowgate/flowgate/internal/testenv"
)

const (
	fakeKey    = "fake-access-key"
	fakeSecret = "fake-secret-key"
)

// fakeS3 serves an in-process gofakes3 on 127.0.0.1 with one bucket,
// wrapped by wrap (nil for none) to inject faults.
func fakeS3(t *testing.T, bucket string, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	mem := s3mem.New()
	if err := mem.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	var h http.Handler = gofakes3.New(mem).Server()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func randomName(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// s3Backend runs the suite against endpoint; each store gets its own prefix.
func s3Backend(endpoint, bucket, key, secret string) backend {
	return backend{
		open: func(t *testing.T, opts Options) Store {
			opts.S3Endpoint, opts.AccessKeyID, opts.SecretAccessKey = endpoint, key, secret
			st, err := Open(context.Background(), "s3://"+bucket+"/t-"+randomName(t), opts)
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		plant: func(t *testing.T, st Store, digest string, data []byte) {
			s := st.(*S3)
			_, err := s.client.PutObject(context.Background(), &s3.PutObjectInput{
				Bucket: aws.String(s.bucket), Key: aws.String(s.key(digest)), Body: strings.NewReader(string(data)),
			})
			if err != nil {
				t.Fatal(err)
			}
		},
	}
}

func TestGofakes3Store(t *testing.T) {
	var preconditionFailed, badChecksum atomic.Int32
	countStatus := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && r.Header.Get("If-None-Match") != "" && r.Header.Get("X-Amz-Checksum-Sha256") == "" {
				badChecksum.Add(1)
			}
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			if rec.status == http.StatusPreconditionFailed {
				preconditionFailed.Add(1)
			}
		})
	}
	endpoint := fakeS3(t, "artifacts", countStatus)
	b := s3Backend(endpoint, "artifacts", fakeKey, fakeSecret)
	runSuite(t, b)
	assertConditional(t, b)
	if n := badChecksum.Load(); n != 0 {
		t.Errorf("%d conditional PUTs without x-amz-checksum-sha256", n)
	}
	// The suite's repeated Puts went through the conditional-create path.
	if preconditionFailed.Load() == 0 {
		t.Fatal("no Put was refused with 412: If-None-Match is not in effect")
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func TestMinIOStore(t *testing.T) {
	m := testenv.MinIO(t)
	bucket := "flowgate-test-" + randomName(t)
	st := openRaw(t, m.Endpoint, m.AccessKey, m.SecretKey)
	if _, err := st.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket %s on MinIO %s: %v", bucket, m.Endpoint, err)
	}
	b := s3Backend(m.Endpoint, bucket, m.AccessKey, m.SecretKey)
	runSuite(t, b)
	assertConditional(t, b)
}

// assertConditional checks that the server honoured If-None-Match (the
// store did not fall back to HEAD-then-PUT).
func assertConditional(t *testing.T, b backend) {
	t.Helper()
	st := b.open(t, Options{}).(*S3)
	for range 2 {
		if _, err := st.Put(context.Background(), []byte("twice")); err != nil {
			t.Fatal(err)
		}
	}
	if st.unconditional.Load() {
		t.Fatal("the server refused If-None-Match: the store fell back to HEAD-then-PUT")
	}
}

// openRaw returns a plain S3 client for test setup.
func openRaw(t *testing.T, endpoint, key, secret string) *s3.Client {
	t.Helper()
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Region:       "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, nil
		}),
	})
}

// A server that answers If-None-Match with 501 switches the store to
// HEAD-then-PUT; the contract still holds.
func TestS3FallbackWithoutConditionalWrites(t *testing.T) {
	var refused atomic.Int32
	noConditions := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && r.Header.Get("If-None-Match") != "" {
				refused.Add(1)
				w.WriteHeader(http.StatusNotImplemented)
				io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>`)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	endpoint := fakeS3(t, "artifacts", noConditions)
	runSuite(t, s3Backend(endpoint, "artifacts", fakeKey, fakeSecret))
	b := s3Backend(endpoint, "artifacts", fakeKey, fakeSecret)
	st := b.open(t, Options{}).(*S3)
	if _, err := st.Put(context.Background(), []byte("x")); err != nil || !st.unconditional.Load() {
		t.Fatalf("Put = %v; fell back = %v, want nil, true", err, st.unconditional.Load())
	}
	if refused.Load() == 0 {
		t.Fatal("the fault injector never saw a conditional PUT")
	}
}

// S3 going away mid-upload gives a clear error naming the object, quickly
// (bounded retries), and leaves nothing behind.
func TestS3DownMidPut(t *testing.T) {
	var cut atomic.Bool
	cutMidBody := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && cut.Load() {
				io.CopyN(io.Discard, r.Body, 100) // part of the body, then the connection dies
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close()
				}
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	endpoint := fakeS3(t, "artifacts", cutMidBody)
	st, err := Open(context.Background(), "s3://artifacts/p", Options{
		S3Endpoint: endpoint, AccessKeyID: fakeKey, SecretAccessKey: fakeSecret, S3MaxAttempts: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	cut.Store(true)
	data := []byte(strings.Repeat("bundle ", 1000))
	_, err = st.Put(context.Background(), data)
	if err == nil {
		t.Fatal("Put succeeded although the server died mid-upload")
	}
	if msg := err.Error(); !strings.Contains(msg, "artifact put s3://artifacts/p/sha256/"+Digest(data)) || !strings.Contains(msg, endpoint) {
		t.Fatalf("error does not name the object and endpoint: %v", err)
	}
	cut.Store(false)
	if ok, err := st.Has(context.Background(), Digest(data)); ok || err != nil {
		t.Fatalf("Has after a failed Put = %v, %v; want false, nil", ok, err)
	}
}

func TestS3Unreachable(t *testing.T) {
	// A port that was just free: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + l.Addr().String()
	l.Close()
	_, err = Open(context.Background(), "s3://artifacts", Options{
		S3Endpoint: endpoint, AccessKeyID: fakeKey, SecretAccessKey: fakeSecret, S3MaxAttempts: 1,
	})
	if err == nil || !strings.Contains(err.Error(), "bucket not reachable") || !strings.Contains(err.Error(), endpoint) {
		t.Fatalf("Open with nothing listening: err = %v", err)
	}
}

func TestS3MissingBucket(t *testing.T) {
	endpoint := fakeS3(t, "artifacts", nil)
	_, err := Open(context.Background(), "s3://other", Options{
		S3Endpoint: endpoint, AccessKeyID: fakeKey, SecretAccessKey: fakeSecret,
	})
	if err == nil || !strings.Contains(err.Error(), "s3://other") {
		t.Fatalf("Open of a missing bucket: err = %v", err)
	}
}

// The server running down after Open: every call fails with a clear error,
// none reports "not found".
func TestS3ServerGone(t *testing.T) {
	mem := s3mem.New()
	if err := mem.CreateBucket("artifacts"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	st, err := Open(context.Background(), "s3://artifacts", Options{
		S3Endpoint: srv.URL, AccessKeyID: fakeKey, SecretAccessKey: fakeSecret, S3MaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	digest := Digest([]byte("x"))
	if _, err := st.Put(context.Background(), []byte("x")); err == nil {
		t.Error("Put succeeded with the server gone")
	}
	if _, err := st.Get(context.Background(), digest); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Get with the server gone: err = %v, want a transport error", err)
	}
	if ok, err := st.Has(context.Background(), digest); err == nil {
		t.Errorf("Has with the server gone = %v, nil; want an error", ok)
	}
}
