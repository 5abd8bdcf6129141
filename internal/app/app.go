package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/artifact"
	"github.com/flowgate/flowgate/internal/builder"
	"github.com/flowgate/flowgate/internal/deploy"
	"github.com/flowgate/flowgate/internal/githubapp"
	"github.com/flowgate/flowgate/internal/npm"
	"github.com/flowgate/flowgate/internal/project"
	"github.com/flowgate/flowgate/internal/sandbox"
	"github.com/flowgate/flowgate/internal/secrets"
	"github.com/flowgate/flowgate/internal/server"
	"github.com/flowgate/flowgate/internal/store"
)

// App is a running Flowgate service.
type App struct {
	cfg     Config
	log     *slog.Logger
	out     io.Writer
	db      *store.DB
	runner  sandbox.Runner
	builder *builder.Builder // nil in inprocess isolation
	deploy  *deploy.Service
	cipher  secrets.Cipher // the master key (the console derives its session key from it)
	jobs    *deploy.Jobs
	server  *server.Server
	http    *http.Server
	ln      net.Listener
	github  *githubParts // nil without the GitHub integration
	started chan struct{}
	stopNow chan struct{} // closed by StopNow: ends the drain early
	stopped sync.Once
	closers []func(ctx context.Context) // what New opened, in order; closeAll runs them in reverse

	adminToken, runtimeToken string // runtimeToken is known only when this start generated or was given it
}

// New opens everything cfg names (creating the data directory, database
// schema, master key and tokens on first start) and listens on cfg.Addr.
// out receives what a person starting the app needs to read (where the
// tokens are, the demo's Result).
func New(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) (*App, error) {
	if err := cfg.Defaults(); err != nil {
		return nil, err
	}
	if err := loadStoredGitHubApp(&cfg); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	a := &App{cfg: cfg, log: log, out: out, started: make(chan struct{}), stopNow: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			a.closeAll(context.Background())
		}
	}()
	if err := dataDir(cfg.DataDir, log); err != nil {
		return nil, err
	}
	var err error
	if a.db, err = store.Open(ctx, cfg.DatabaseURL, cfg.DataDir); err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	a.onClose(func(context.Context) { a.db.Close() })
	cipher, err := secrets.LoadMasterKey(cfg.MasterKey, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	a.cipher = cipher
	artSpec := cfg.Artifacts
	if artSpec == "" {
		artSpec = filepath.Join(cfg.DataDir, "artifacts")
	}
	arts, err := artifact.Open(ctx, artSpec, artifact.Options{S3Endpoint: cfg.S3Endpoint})
	if err != nil {
		return nil, fmt.Errorf("artifacts: %w", err)
	}
	sopts := sandbox.Options{Workers: cfg.Workers, Logger: log.With("component", "sandbox")}
	if cfg.Isolation == "inprocess" {
		a.runner = sandbox.NewInProcess(sopts)
	} else if a.runner, err = sandbox.NewSupervisor(sopts); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	a.onClose(func(context.Context) { a.runner.Close() })
	runner := a.runner
	// Repository content is parsed in builder processes (internal/builder),
	// so a repository that crashes a parser fails its own sync only.
	check := project.Check
	npmOpts := npm.Options{Registry: cfg.NPMRegistry, Allow: cfg.NPMAllow}
	if cfg.Isolation != "inprocess" {
		if a.builder, err = builder.New(builder.Options{Logger: log.With("component", "builder")}); err != nil {
			return nil, fmt.Errorf("builder: %w", err)
		}
		check, npmOpts.ScanImports = a.builder.Check, a.builder.ScanImports
	}
	a.deploy, err = deploy.New(deploy.Options{
		Store: a.db, Artifacts: arts, Cipher: cipher, Logger: log, DataDir: cfg.DataDir,
		NPM:              npmOpts,
		SnapshotMaxStale: cfg.StaleMax, SnapshotTimeout: cfg.RefreshTimeout,
		Check: func(ctx context.Context, dir string) (*project.Report, error) {
			return check(ctx, dir, project.Options{Inspector: runner})
		},
	})
	if err != nil {
		return nil, err
	}
	if err := a.tokens(ctx); err != nil {
		return nil, err
	}
	jopts := deploy.JobsOptions{Store: a.db, Service: a.deploy, Logger: log, SoleProcess: a.db.Dialect() == store.SQLite,
		Prune: deploy.PruneOptions{LogQuotaRows: int64(cfg.LogQuotaRows), LogQuotaBytes: cfg.LogQuotaBytes}}
	deploy.RegisterReseal(&jopts)
	// The GitHub App's delivery workers are part of the job queue; its
	// webhook endpoint queues into it, so it is made after the queue.
	var gh *githubapp.App
	if cfg.GitHub() {
		if gh, err = newGitHubApp(a); err != nil {
			return nil, err
		}
		gh.Register(&jopts)
	}
	if a.jobs, err = deploy.NewJobs(ctx, jopts); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	a.onClose(func(ctx context.Context) {
		if err := a.jobs.Stop(ctx); err != nil {
			a.log.Warn("stop jobs", "err", err)
		}
	})
	if gh != nil {
		if a.github, err = newGitHubParts(a, gh); err != nil {
			return nil, err
		}
	}
	sv := server.Options{Deploy: a.deploy, Runner: a.runner, AdminToken: a.adminToken, Logger: log, AllowHosts: cfg.AllowHosts,
		Jobs: a.jobs}
	if cfg.RuntimeToken != "" {
		sv.ConfiguredRuntimeTokens = []string{"production"}
	}
	if a.github != nil {
		sv.Webhook = a.github.webhook
	}
	if sv.Routes, err = a.githubSetupRoutes(); err != nil {
		return nil, err
	}
	if sv.Routes, err = a.consoleRoutes(sv.Routes); err != nil {
		return nil, err
	}
	sv.Routes = a.resyncRoutes(sv.Routes)
	if a.server, err = server.New(sv); err != nil {
		return nil, err
	}
	a.onClose(func(ctx context.Context) { a.server.Close(ctx) })
	if a.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	a.onClose(func(context.Context) { a.ln.Close() }) // already closed when it was served
	a.http = &http.Server{
		Handler:           a.server,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ok = true
	return a, nil
}

// URL is the base URL the app serves on.
func (a *App) URL() string { return "http://" + a.ln.Addr().String() }

// AdminToken is the management API's token.
func (a *App) AdminToken() string { return a.adminToken }

// Deploy is the deployment lifecycle (tests, tools).
func (a *App) Deploy() *deploy.Service { return a.deploy }

// Jobs is the job queue.
func (a *App) Jobs() *deploy.Jobs { return a.jobs }

// Run serves until ctx ends, then shuts down gracefully: no new requests,
// running ones and jobs finish (bounded), logs are flushed, workers stop.
func (a *App) Run(ctx context.Context) error {
	if err := a.jobs.Start(ctx); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- a.http.Serve(a.ln) }()
	a.log.Info("flowgate serving", "url", a.URL(), "isolation", a.cfg.Isolation, "database", a.db.String(), "github", a.cfg.GitHub())
	if why := loopbackWebhook(a.cfg); why != "" {
		a.log.Warn(why, "public_url", a.cfg.PublicURL, "addr", a.cfg.Addr)
	}
	close(a.started)
	if a.cfg.DevRepo != "" {
		go a.watchDevRepo(ctx)
	}
	var err error
	select {
	case <-ctx.Done():
		a.drain()
	case err = <-errc:
		err = fmt.Errorf("http server: %w", err)
	}
	shut, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if serr := a.http.Shutdown(shut); serr != nil && err == nil {
		err = serr
	}
	a.closeAll(shut)
	return err
}

// drain runs between the stop signal and closing the listener: /readyz
// answers 503 at once so load balancers stop sending, while requests —
// those running and those still arriving — keep being served for
// DrainDelay (or until StopNow). Shutdown then waits for the running ones.
func (a *App) drain() {
	a.server.SetDraining()
	if a.cfg.DrainDelay <= 0 {
		return
	}
	a.log.Info("draining: /readyz answers 503, requests are still served", "for", a.cfg.DrainDelay)
	t := time.NewTimer(a.cfg.DrainDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-a.stopNow:
	}
}

// StopNow ends a drain early (a second signal): the listener closes and
// the requests already running finish.
func (a *App) StopNow() { a.stopped.Do(func() { close(a.stopNow) }) }

// onClose registers how to close what was just opened.
func (a *App) onClose(f func(ctx context.Context)) { a.closers = append(a.closers, f) }

// closeAll closes what New opened, newest first: the listener, the server
// (flushing runtime logs), the job queue, the sandbox, the database last.
func (a *App) closeAll(ctx context.Context) {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i](ctx)
	}
	a.closers = nil
}

// tokens sets up the admin token and the runtime tokens. Given ones are
// used as they are; missing ones are generated on first start and written
// to files under the data directory (0600) whose paths are printed.
// FLOWGATE_RUNTIME_TOKEN is production's token, and it is authoritative:
// it replaces a stored one (said in the log), and the API cannot rotate
// it. The dev environment, when it is not production, gets a generated
// token of its own. a.runtimeToken is the dev environment's token (the
// demo calls with it) when this data directory knows it.
func (a *App) tokens(ctx context.Context) error {
	var err error
	a.adminToken = a.cfg.AdminToken
	if a.adminToken == "" {
		if a.adminToken, err = a.tokenFile("admin-token"); err != nil {
			return err
		}
	}
	envs := []string{"production"}
	if a.cfg.Environment != "production" {
		envs = append(envs, a.cfg.Environment)
	}
	for _, env := range envs {
		if err := a.deploy.EnsureEnvironment(ctx, env); err != nil {
			return err
		}
		tok, err := a.runtimeTokenFor(ctx, env)
		if err != nil {
			return err
		}
		if env == a.cfg.Environment {
			a.runtimeToken = tok
		}
	}
	return nil
}

func (a *App) runtimeTokenFor(ctx context.Context, env string) (string, error) {
	if env == "production" && a.cfg.RuntimeToken != "" {
		ok, err := a.deploy.CheckRuntimeToken(ctx, env, a.cfg.RuntimeToken)
		if err != nil {
			return "", err
		}
		if !ok {
			e, err := a.deploy.Environment(ctx, env)
			if err != nil {
				return "", err
			}
			if e.RuntimeTokenHash != "" {
				a.log.Warn("FLOWGATE_RUNTIME_TOKEN replaces production's stored runtime token", "environment", env)
			}
			if err := a.deploy.SetRuntimeToken(ctx, env, a.cfg.RuntimeToken); err != nil {
				return "", err
			}
		}
		return a.cfg.RuntimeToken, nil
	}
	name := "runtime-token"
	if env != "production" {
		name = "runtime-token-" + env
	}
	e, err := a.deploy.Environment(ctx, env)
	if err != nil {
		return "", err
	}
	if e.RuntimeTokenHash != "" {
		// Set before (or rotated through the API): the file, if this data
		// directory made it, may still hold it.
		b, err := os.ReadFile(filepath.Join(a.cfg.DataDir, name))
		if err != nil {
			return "", nil
		}
		tok := strings.TrimSpace(string(b))
		if ok, _ := a.deploy.CheckRuntimeToken(ctx, env, tok); ok {
			return tok, nil
		}
		return "", nil
	}
	tok, err := a.tokenFile(name)
	if err != nil {
		return "", err
	}
	return tok, a.deploy.SetRuntimeToken(ctx, env, tok)
}

// tokenFile reads a token kept in the data directory, or generates it.
func (a *App) tokenFile(name string) (string, error) {
	path := filepath.Join(a.cfg.DataDir, name)
	if b, err := os.ReadFile(path); err == nil {
		if tok := strings.TrimSpace(string(b)); tok != "" {
			return tok, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	tok, err := secrets.GenerateToken()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Fprintf(a.out, "flowgate: generated the %s, saved in %s (readable by you only)\n", strings.ReplaceAll(name, "-", " "), path)
	return tok, nil
}

// dataDir creates the data directory, or tightens an existing one, to
// 0700: it holds the database, the generated master key and tokens.
func dataDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("data directory %s is readable by others and cannot be made private: %w", dir, err)
		}
		log.Warn("data directory was readable by others: made private (0700)", "dir", dir)
	}
	return nil
}
