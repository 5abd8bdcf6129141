// Package deploy is Flowgate's deployment lifecycle: the one sync pipeline
// every source goes through (pipeline.go: fetch → snapshot → install
// packages → project.Check → artifacts → deployment records → live
// pointers → report; a source adds only a Fetcher and a Reporter), and the
// live pointers that say which deployment of each workflow the runtime
// API serves.
//
// Statuses follow the Kinde docs (store.Processing … store.Deactivated).
// With preview mode off (the default) a valid sync makes its deployments
// live at once; with it on they wait as Draft (the workflow has nothing
// live) or Deployed. A sync with any error diagnostic fails as a whole and
// moves no live pointer. Every pointer move (sync, make-live, rollback,
// deactivate, delete) is one transaction that checks the artifacts exist
// first, records the flip, and bumps the environment's version counter so
// other replicas notice within LiveCheckInterval.
//
// Syncs and later webhook deliveries run as durable River jobs (jobs.go).
package deploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowgate/flowgate/internal/diag"
	"github.com/flowgate/flowgate/internal/npm"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/store"
	"github.com/flowgate/flowgate/internal/workflow"
)

// Types the API speaks, defined in store so both layers share them.
type (
	Deployment     = store.Deployment
	LiveDeployment = store.LiveDeployment
	Workflow       = store.Workflow
	SyncRecord     = store.Sync
	SyncLogEntry   = store.SyncLogEntry
	Flip           = store.Flip
	Environment    = store.Environment
	Status         = store.Status
)

// Errors the HTTP layer maps to statuses (404, 409, 400, 429, 401). They
// are wrapped: test with errors.Is.
var (
	ErrNotFound        = store.ErrNotFound
	ErrConflict        = errors.New("conflict")
	ErrInvalid         = errors.New("invalid request")
	ErrRateLimited     = errors.New("too many failed attempts")
	ErrBadPassword     = errors.New("wrong preview password")
	ErrArtifactMissing = errors.New("artifact missing")
)

// Artifacts is the part of artifact.Store deploy uses.
type Artifacts interface {
	Put(ctx context.Context, data []byte) (digest string, err error)
	Get(ctx context.Context, digest string) ([]byte, error)
	Has(ctx context.Context, digest string) (bool, error)
}

// Cipher seals secret values (secrets.Cipher).
type Cipher interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(ciphertext, aad []byte) ([]byte, error)
}

// Actor says who asked for a change; it is recorded with every flip.
type Actor struct {
	Name   string // "sync", "admin", a user
	Reason string
}

// Options configure a Service. Store, Artifacts and Cipher are required.
type Options struct {
	Store     *store.DB
	Artifacts Artifacts
	Cipher    Cipher
	Logger    *slog.Logger // default slog.Default()

	// Check validates and bundles a source snapshot (default project.Check
	// with zero options).
	Check func(ctx context.Context, dir string) (*project.Report, error)

	// LiveCheckInterval bounds how stale LiveFor's cache may be: at most
	// this often it reads one version row to learn whether any replica
	// moved a pointer (default 500ms).
	LiveCheckInterval time.Duration

	// SnapshotMaxStale bounds how old the runtime state served from memory
	// may get while the database cannot be read (default 15 minutes);
	// SnapshotTimeout bounds each read of it (default 2 seconds).
	SnapshotMaxStale time.Duration
	SnapshotTimeout  time.Duration

	// PreviewMaxFailures failed preview-password checks within
	// PreviewWindow lock a deployment's preview until the window ends
	// (defaults 5 and 15 minutes). Counted in the database, so the limit
	// holds across replicas.
	PreviewMaxFailures int
	PreviewWindow      time.Duration

	// Now is the clock (default time.Now).
	Now func() time.Time

	// DataDir holds the snapshots syncs work in (<DataDir>/snapshots,
	// private, emptied by New) and the npm tarball cache; default: a new
	// private temporary directory.
	DataDir string
	// NPM configures the package installer: Registry, Allow and Client
	// (FLOWGATE_NPM_*); CacheDir defaults to <DataDir>/npm-cache.
	NPM npm.Options
	// Install installs a snapshot's packages (default npm.Install).
	Install func(ctx context.Context, repoDir, destDir string, opts npm.Options) ([]npm.Installed, []diag.Diagnostic, error)
	// Lease is how long a sync's heartbeat may be silent before its
	// process counts as dead and another worker takes the sync over
	// (default 5s; it beats five times per lease).
	Lease time.Duration
	// MaxCrashes: a sync whose runs died with their process this many
	// times fails for good, saying so (default 3).
	MaxCrashes int
}

// Service is the deployment lifecycle over one store and artifact store. It
// is safe for concurrent use; several Services (replicas) may share one
// PostgreSQL database.
type Service struct {
	db        *store.DB
	artifacts Artifacts
	cipher    Cipher
	log       *slog.Logger
	check     func(ctx context.Context, dir string) (*project.Report, error)
	now       func() time.Time

	liveInterval time.Duration
	previewMax   int
	previewWin   time.Duration
	syncOutcomes sync.Map // outcome -> *atomic.Uint64 (SyncOutcomes)
	logsTrimmed  atomic.Uint64

	cache sync.Map // environment name -> *envCache

	snaps       snapshots // the trigger path's state, by environment (snapshot.go)
	maxStale    time.Duration
	snapTimeout time.Duration
	fetchers    map[string]Fetcher
	reporters   map[string]Reporter
	snapRoot    string
	npm         npm.Options
	installFn   func(ctx context.Context, repoDir, destDir string, opts npm.Options) ([]npm.Installed, []diag.Diagnostic, error)
	lease       time.Duration
	maxCrashes  int

	code         *codeCache    // bundles and source maps for the trigger path
	previewSlots chan struct{} // bounds concurrent preview password checks

	// hook, when set (tests only), runs at named steps and may fail them.
	hook func(step string) error
}

// New returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Artifacts == nil || opts.Cipher == nil {
		return nil, errors.New("deploy: Store, Artifacts and Cipher are required")
	}
	s := &Service{
		db:           opts.Store,
		artifacts:    opts.Artifacts,
		cipher:       opts.Cipher,
		log:          opts.Logger,
		check:        opts.Check,
		now:          opts.Now,
		liveInterval: opts.LiveCheckInterval,
		previewMax:   opts.PreviewMaxFailures,
		previewWin:   opts.PreviewWindow,
		maxStale:     opts.SnapshotMaxStale,
		snapTimeout:  opts.SnapshotTimeout,
		fetchers:     map[string]Fetcher{"dir": DirFetcher, "dev": DirFetcher},
		reporters:    map[string]Reporter{},
		npm:          opts.NPM,
		installFn:    opts.Install,
		lease:        opts.Lease,
		maxCrashes:   opts.MaxCrashes,
		code:         newCodeCache(codeCacheBytes),
		previewSlots: make(chan struct{}, 2),
	}
	if s.maxStale <= 0 {
		s.maxStale = DefaultSnapshotMaxStale
	}
	if s.snapTimeout <= 0 {
		s.snapTimeout = DefaultSnapshotTimeout
	}
	if s.installFn == nil {
		s.installFn = npm.Install
	}
	if s.lease <= 0 {
		s.lease = 5 * time.Second
	}
	if s.maxCrashes <= 0 {
		s.maxCrashes = 3
	}
	if err := s.snapshots(opts.DataDir); err != nil {
		return nil, err
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.check == nil {
		s.check = func(ctx context.Context, dir string) (*project.Report, error) {
			return project.Check(ctx, dir, project.Options{})
		}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.liveInterval <= 0 {
		s.liveInterval = 500 * time.Millisecond
	}
	if s.previewMax <= 0 {
		s.previewMax = 5
	}
	if s.previewWin <= 0 {
		s.previewWin = 15 * time.Minute
	}
	return s, nil
}

// snapshots makes the private directory syncs snapshot commits into and
// sweeps what a killed process left there.
func (s *Service) snapshots(dataDir string) error {
	if dataDir == "" {
		dir, err := os.MkdirTemp("", "flowgate-snapshots-")
		if err != nil {
			return fmt.Errorf("deploy: snapshot directory: %w", err)
		}
		s.snapRoot = dir
	} else {
		s.snapRoot = filepath.Join(dataDir, "snapshots")
		if err := os.RemoveAll(s.snapRoot); err != nil {
			return fmt.Errorf("deploy: sweep snapshots: %w", err)
		}
		if s.npm.CacheDir == "" {
			s.npm.CacheDir = filepath.Join(dataDir, "npm-cache")
		}
	}
	if err := os.MkdirAll(s.snapRoot, 0o700); err != nil {
		return fmt.Errorf("deploy: snapshot directory: %w", err)
	}
	return os.Chmod(s.snapRoot, 0o700)
}

// step runs the test hook for a named step.
func (s *Service) step(name string) error {
	if s.hook == nil {
		return nil
	}
	if err := s.hook(name); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// newID returns prefix + 16 random hex digits.
func newID(prefix string) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("deploy: crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	return prefix + hex.EncodeToString(b[:])
}

// ---- environments ----

// EnsureEnvironment creates an environment (preview mode off) if needed.
func (s *Service) EnsureEnvironment(ctx context.Context, env string) error {
	if err := checkEnv(env); err != nil {
		return err
	}
	return s.db.EnsureEnvironment(ctx, env)
}

// Environment reads an environment.
func (s *Service) Environment(ctx context.Context, env string) (Environment, error) {
	return s.db.Environment(ctx, env)
}

// SetPreviewMode turns preview mode on (new deployments wait as
// Draft/Deployed) or off (they go live on sync).
func (s *Service) SetPreviewMode(ctx context.Context, env string, on bool) error {
	if err := s.EnsureEnvironment(ctx, env); err != nil {
		return err
	}
	return s.db.SetPreviewMode(ctx, env, on)
}

// SetRuntimeToken stores a hash of the environment's runtime bearer token;
// CheckRuntimeToken compares in constant time.
func (s *Service) SetRuntimeToken(ctx context.Context, env, token string) error {
	if err := s.EnsureEnvironment(ctx, env); err != nil {
		return err
	}
	return s.db.SetRuntimeTokenHash(ctx, env, tokenHash(token))
}

// CheckRuntimeToken reports whether token is the environment's runtime token.
func (s *Service) CheckRuntimeToken(ctx context.Context, env, token string) (bool, error) {
	e, err := s.db.Environment(ctx, env)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if e.RuntimeTokenHash == "" || token == "" {
		return false, nil
	}
	return secrets.CompareToken(tokenHash(token), e.RuntimeTokenHash), nil
}

// checkEnv is the one environment-name rule, refused as ErrInvalid.
func checkEnv(env string) error {
	if err := workflow.CheckEnvironment(env); err != nil {
		return fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	return nil
}

// validName bounds names that reach URLs, logs and AAD strings.
func validName(what, v string) error {
	if v == "" || len(v) > 128 {
		return fmt.Errorf("%s name must be 1-128 characters: %w", what, ErrInvalid)
	}
	for _, r := range v {
		ok := r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !ok {
			return fmt.Errorf("%s name %q: only letters, digits, '_', '-' and '.' are allowed: %w", what, v, ErrInvalid)
		}
	}
	return nil
}
