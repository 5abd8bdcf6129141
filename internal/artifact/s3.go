package artifact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// S3 is a Store in an S3 bucket (or an S3-compatible server), one object per
// blob at <prefix>/sha256/<digest>.
//
// Put is a conditional create (If-None-Match: *). A 412 Precondition Failed
// means the object exists: Put then reads it back and succeeds when it holds
// the right bytes, or replaces it when it is corrupt (the digest admits only
// one content, so any writer writes the same bytes). A server that answers
// the condition with 501 Not Implemented switches the store to HEAD-then-PUT,
// which is still safe for content-addressed data: two racing writers upload
// identical bytes.
type S3 struct {
	client   *s3.Client
	bucket   string
	prefix   string // "" or "dir/sub/" (with a trailing slash)
	endpoint string // for error messages
	maxBytes int64
	// unconditional is set once the server has refused If-None-Match.
	unconditional atomic.Bool
}

var _ Store = (*S3)(nil)

// ParseS3Spec splits "s3://bucket/prefix" into bucket and prefix ("" or
// ending in "/").
func ParseS3Spec(spec string) (bucket, prefix string, err error) {
	u, err := url.Parse(spec)
	if err != nil || u.Scheme != "s3" {
		return "", "", fmt.Errorf("artifact store %q: want s3://bucket/prefix", spec)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("artifact store %q: want s3://bucket/prefix (a bucket name, no user, query or fragment)", spec)
	}
	prefix = strings.Trim(u.Path, "/")
	for _, seg := range strings.Split(prefix, "/") {
		if seg == "." || seg == ".." {
			return "", "", fmt.Errorf("artifact store %q: prefix may not contain . or .. segments", spec)
		}
	}
	if prefix != "" {
		prefix += "/"
	}
	return u.Host, prefix, nil
}

func openS3(ctx context.Context, spec string, opts Options) (*S3, error) {
	bucket, prefix, err := ParseS3Spec(spec)
	if err != nil {
		return nil, err
	}
	region := opts.Region
	loadOpts := []func(*config.LoadOptions) error{
		// Checksums only when an operation requires them: S3-compatible
		// servers differ in their support for trailing checksums, and Get
		// verifies the SHA-256 of every blob itself.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if region != "" {
		loadOpts = append(loadOpts, config.WithRegion(region))
	}
	if opts.AccessKeyID != "" && opts.SecretAccessKey != "" {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(opts.AccessKeyID, opts.SecretAccessKey, "")))
	}
	if opts.S3MaxAttempts > 0 {
		loadOpts = append(loadOpts, config.WithRetryMaxAttempts(opts.S3MaxAttempts))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("artifact store %s: aws config: %w", spec, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	endpoint := opts.S3Endpoint
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	})
	st := &S3{client: client, bucket: bucket, prefix: prefix, endpoint: endpoint, maxBytes: opts.maxBytes()}
	if st.endpoint == "" {
		st.endpoint = "aws"
	}
	// Fail at startup, with the bucket and endpoint named, rather than on
	// the first sync.
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return nil, fmt.Errorf("artifact store %s (endpoint %s): bucket not reachable: %w", spec, st.endpoint, err)
	}
	return st, nil
}

func (s *S3) key(digest string) string { return s.prefix + "sha256/" + digest }

func (s *S3) where(digest string) string {
	return fmt.Sprintf("s3://%s/%s (endpoint %s)", s.bucket, s.key(digest), s.endpoint)
}

// Put implements Store.
func (s *S3) Put(ctx context.Context, data []byte) (string, error) {
	if int64(len(data)) > s.maxBytes {
		return "", fmt.Errorf("artifact put: %w", tooLarge(int64(len(data)), s.maxBytes))
	}
	digest := Digest(data)
	if s.unconditional.Load() {
		return digest, s.headThenPut(ctx, digest, data)
	}
	for attempt := 0; ; attempt++ {
		err := s.putObject(ctx, digest, data, true)
		switch {
		case err == nil:
			return digest, nil
		case errorCode(err) == "PreconditionFailed" || httpStatus(err) == http.StatusPreconditionFailed:
			return digest, s.keepOrRepair(ctx, digest, data)
		case errorCode(err) == "ConditionalRequestConflict" && attempt < 5:
			// A concurrent conditional write of this key is in flight.
			if err := sleep(ctx, time.Duration(attempt+1)*50*time.Millisecond); err != nil {
				return "", fmt.Errorf("artifact put %s: %w", s.where(digest), err)
			}
		case errorCode(err) == "NotImplemented" || httpStatus(err) == http.StatusNotImplemented:
			s.unconditional.Store(true)
			return digest, s.headThenPut(ctx, digest, data)
		default:
			return "", fmt.Errorf("artifact put %s: %w", s.where(digest), err)
		}
	}
}

// keepOrRepair runs when the object already exists: it succeeds when the
// stored bytes are right and replaces them when they are not.
func (s *S3) keepOrRepair(ctx context.Context, digest string, data []byte) error {
	existing, err := s.read(ctx, digest)
	switch {
	case err == nil && Digest(existing) == digest:
		return nil
	case err == nil, errors.Is(err, ErrTooLarge), errors.Is(err, ErrNotFound):
		// Corrupt, or deleted since the 412: write the right bytes.
		if err := s.putObject(ctx, digest, data, false); err != nil {
			return fmt.Errorf("artifact put %s: replace existing object: %w", s.where(digest), err)
		}
		return nil
	default:
		return fmt.Errorf("artifact put %s: object exists, reading it back: %w", s.where(digest), err)
	}
}

// headThenPut is the fallback for servers without conditional writes.
func (s *S3) headThenPut(ctx context.Context, digest string, data []byte) error {
	ok, err := s.Has(ctx, digest)
	if err != nil {
		return fmt.Errorf("artifact put: %w", err)
	}
	if ok {
		return s.keepOrRepair(ctx, digest, data)
	}
	if err := s.putObject(ctx, digest, data, false); err != nil {
		return fmt.Errorf("artifact put %s: %w", s.where(digest), err)
	}
	return nil
}

func (s *S3) putObject(ctx context.Context, digest string, data []byte, ifNoneMatch bool) error {
	sum := sha256.Sum256(data)
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(s.key(digest)),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String("application/octet-stream"),
		// The server checks the upload against its SHA-256, so a body
		// damaged in transit is refused rather than stored.
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
	}
	if ifNoneMatch {
		in.IfNoneMatch = aws.String("*")
	}
	_, err := s.client.PutObject(ctx, in)
	return err
}

// Get implements Store.
func (s *S3) Get(ctx context.Context, digest string) ([]byte, error) {
	if err := checkDigest(digest); err != nil {
		return nil, fmt.Errorf("artifact get: %w", err)
	}
	data, err := s.read(ctx, digest)
	if err != nil {
		return nil, fmt.Errorf("artifact get %s: %w", s.where(digest), err)
	}
	if err := verify(digest, data); err != nil {
		return nil, fmt.Errorf("%w (at %s)", err, s.where(digest))
	}
	return data, nil
}

// read returns the object's bytes, at most maxBytes of them.
func (s *S3) read(ctx context.Context, digest string) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.key(digest)),
	})
	if err != nil {
		if isNotFound(err) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	defer out.Body.Close()
	if out.ContentLength != nil && *out.ContentLength > s.maxBytes {
		return nil, tooLarge(*out.ContentLength, s.maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(out.Body, s.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(data)) > s.maxBytes {
		return nil, tooLarge(int64(len(data)), s.maxBytes)
	}
	return data, nil
}

// Has implements Store.
func (s *S3) Has(ctx context.Context, digest string) (bool, error) {
	if err := checkDigest(digest); err != nil {
		return false, fmt.Errorf("artifact has: %w", err)
	}
	_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.key(digest)),
	})
	if err != nil {
		if isNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("artifact has %s: %w", s.where(digest), err)
	}
	return true, nil
}

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		return respErr.HTTPStatusCode()
	}
	return 0
}

func isNotFound(err error) bool {
	switch errorCode(err) {
	case "NoSuchKey", "NotFound":
		return true
	}
	return httpStatus(err) == http.StatusNotFound && errorCode(err) != "NoSuchBucket"
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
