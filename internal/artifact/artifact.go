// Package artifact stores immutable, content-addressed blobs (workflow
// bundles and their source maps). A blob's name is the lowercase hex SHA-256
// of its bytes, so a name can never point at two contents: writes are
// create-if-absent, readers verify what they read, and any replica may write
// the same blob at the same time without coordination.
//
// Two stores share one contract (and one test suite): a local directory, the
// embedded default, and S3 or any S3-compatible server.
package artifact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Store holds immutable blobs by digest.
type Store interface {
	// Put stores data if absent and returns its digest (lowercase hex
	// SHA-256). Putting content that is already stored is a no-op success.
	Put(ctx context.Context, data []byte) (digest string, err error)
	// Get returns the blob named by digest after verifying its SHA-256.
	// It returns an error wrapping ErrNotFound when the blob is absent and
	// ErrCorrupt when the stored bytes do not match the digest.
	Get(ctx context.Context, digest string) ([]byte, error)
	// Has reports whether a blob is stored (without reading or verifying it).
	Has(ctx context.Context, digest string) (bool, error)
}

// DefaultMaxBytes caps a blob when Options.MaxBytes is zero. A workflow
// bundle with its source map is far below this.
const DefaultMaxBytes = 32 << 20

var (
	// ErrNotFound: no blob has this digest.
	ErrNotFound = errors.New("artifact not found")
	// ErrCorrupt: the stored bytes do not hash to their name.
	ErrCorrupt = errors.New("artifact corrupt: content does not match its digest")
	// ErrTooLarge: the blob is above the store's size cap.
	ErrTooLarge = errors.New("artifact too large")
	// ErrInvalidDigest: the name is not 64 lowercase hex characters.
	ErrInvalidDigest = errors.New("invalid artifact digest: want 64 lowercase hex characters")
)

// Options configures Open. The zero value opens a directory store with the
// default size cap.
type Options struct {
	// S3Endpoint overrides the S3 endpoint (FLOWGATE_S3_ENDPOINT), e.g.
	// http://127.0.0.1:9000 for MinIO; requests then use path-style URLs.
	S3Endpoint string
	// Region is the S3 region; default "us-east-1" (or AWS_REGION).
	Region string
	// MaxBytes caps one blob, for Put and Get; zero means DefaultMaxBytes.
	MaxBytes int64
	// AccessKeyID and SecretAccessKey, when both set, are static S3
	// credentials; otherwise the AWS default credential chain is used
	// (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, shared config, IAM role).
	AccessKeyID     string
	SecretAccessKey string
	// S3MaxAttempts bounds attempts per S3 request (retries with backoff);
	// zero means the SDK default (3).
	S3MaxAttempts int
}

func (o Options) maxBytes() int64 {
	if o.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return o.MaxBytes
}

// Open opens the store named by spec: "s3://bucket/prefix" for S3, any other
// value (without a URL scheme) for a local directory, created if absent.
func Open(ctx context.Context, spec string, opts Options) (Store, error) {
	switch {
	case strings.HasPrefix(strings.ToLower(spec), "s3:"):
		// Also "S3://…" and typos such as "s3:/bucket", which must not
		// become a local directory named "s3:".
		return openS3(ctx, spec, opts)
	case spec == "":
		return nil, errors.New("artifact store: empty location: want a directory or s3://bucket/prefix")
	case strings.Contains(spec, "://"):
		return nil, fmt.Errorf("artifact store %q: unsupported scheme: want a directory or s3://bucket/prefix", spec)
	default:
		return OpenDir(spec, opts)
	}
}

// Digest returns the name a blob is stored under: lowercase hex SHA-256.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// ValidDigest reports whether s is 64 lowercase hex characters. Only such
// names reach a file path or an object key, so a hostile name cannot escape.
func ValidDigest(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func checkDigest(digest string) error {
	if !ValidDigest(digest) {
		return fmt.Errorf("%w: %q", ErrInvalidDigest, truncate(digest, 80))
	}
	return nil
}

// verify checks that data hashes to digest.
func verify(digest string, data []byte) error {
	if got := Digest(data); got != digest {
		return fmt.Errorf("artifact %s: %w (stored bytes hash to %s)", digest, ErrCorrupt, got)
	}
	return nil
}

func tooLarge(size, limit int64) error {
	return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, limit)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
