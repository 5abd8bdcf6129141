// Package app assembles the Flowgate service — store, artifact store,
// secrets, deployment lifecycle, durable jobs, sandbox workers, HTTP API,
// the dev-repo watcher and the GitHub App — from one Config, and runs it
// until its context ends. cmd/flowgate-app is flag parsing around it.
package app

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the service's configuration. Every field has an embedded
// default, so the zero config (after Defaults) runs on one machine with
// no credentials: SQLite and artifacts under DataDir.
type Config struct {
	Addr        string // FLOWGATE_ADDR, default 127.0.0.1:8080
	DataDir     string // FLOWGATE_DATA_DIR, default ./flowgate-data
	DatabaseURL string // FLOWGATE_DATABASE_URL: postgres://… or a SQLite file; default <DataDir>/flowgate.db
	Artifacts   string // FLOWGATE_ARTIFACTS: a directory or s3://bucket/prefix; default <DataDir>/artifacts
	S3Endpoint  string // FLOWGATE_S3_ENDPOINT, for S3-compatible servers (path-style)

	AdminToken   string // FLOWGATE_ADMIN_TOKEN; generated into <DataDir>/admin-token when empty
	RuntimeToken string // FLOWGATE_RUNTIME_TOKEN for environment production; generated when empty and none is set
	MasterKey    string // FLOWGATE_MASTER_KEY (Base64, 32 bytes); a generated <DataDir>/master.key when empty

	DevRepo     string // FLOWGATE_DEV_REPO: a directory or git repository synced on every change as environment production
	Environment string // FLOWGATE_DEV_ENVIRONMENT: the environment the dev repo syncs into (default production)

	GitHubAppID         int64  // FLOWGATE_GITHUB_APP_ID
	GitHubPrivateKey    string // FLOWGATE_GITHUB_PRIVATE_KEY (PEM), or …_FILE
	GitHubWebhookSecret string // FLOWGATE_GITHUB_WEBHOOK_SECRET
	GitHubAPIURL        string // FLOWGATE_GITHUB_API_URL, default https://api.github.com/
	GitHubWebURL        string // FLOWGATE_GITHUB_WEB_URL, default https://github.com (App setup, console sign-in)
	GitHubEnvironments  string // FLOWGATE_GITHUB_ENVIRONMENTS: owner/repo@branch=env,… beyond the default branch → production
	GitHubMinPermission string // FLOWGATE_GITHUB_MIN_PERMISSION: write (default), maintain or admin, to change things
	GitHubSetup         bool   // FLOWGATE_GITHUB_SETUP (any value): serve the one-click App setup page
	GitHubClientID      string // FLOWGATE_GITHUB_CLIENT_ID: the App's OAuth client, for console sign-in with GitHub
	GitHubClientSecret  string // FLOWGATE_GITHUB_CLIENT_SECRET
	PublicURL           string // FLOWGATE_PUBLIC_URL: where people reach this app (links in check runs)

	Isolation   string   // FLOWGATE_ISOLATION: process (default) or inprocess
	Workers     int      // FLOWGATE_WORKERS: sandbox worker processes (default GOMAXPROCS)
	AllowHosts  []string // FLOWGATE_ALLOW_HOSTS: comma-separated private HOST[:PORT]s kinde.fetch may reach
	NPMRegistry string   // FLOWGATE_NPM_REGISTRY, default https://registry.npmjs.org/
	NPMAllow    []string // FLOWGATE_NPM_ALLOW: packages syncs may install (default @kinde/infrastructure)

	Demo bool // --demo: after the dev repo's first sync, call a trigger through the runtime API and print the Result

	// Availability (see docs/availability.md).
	StaleMax       time.Duration // FLOWGATE_RUNTIME_STALE_MAX: how old the runtime state served while the database is away may get (default 15m)
	RefreshTimeout time.Duration // FLOWGATE_RUNTIME_REFRESH_TIMEOUT: bound on each read of it (default 2s)
	DrainDelay     time.Duration // FLOWGATE_DRAIN_DELAY: on SIGTERM, /readyz answers 503 this long before the listener closes (default 5s; a second signal ends it)
	LogQuotaRows   int           // FLOWGATE_RUNTIME_LOG_QUOTA: runtime log rows kept per environment, oldest dropped first (default 200000)
	LogQuotaBytes  int64         // FLOWGATE_RUNTIME_LOG_QUOTA_BYTES: their message bytes kept per environment (default 256 MiB)
}

// DefaultDrainDelay is FLOWGATE_DRAIN_DELAY's default. A Config built in
// code (tests) has no delay unless it sets one.
const DefaultDrainDelay = 5 * time.Second

// env reads FLOWGATE_<name>; only FromEnv calls it, so every setting is a
// Config field (a test holds this file to it).
func env(name string) string { return os.Getenv("FLOWGATE_" + name) }

// FromEnv reads the FLOWGATE_* environment variables.
func FromEnv() (Config, error) {
	c := Config{
		Addr: env("ADDR"), DataDir: env("DATA_DIR"), DatabaseURL: env("DATABASE_URL"),
		Artifacts: env("ARTIFACTS"), S3Endpoint: env("S3_ENDPOINT"),
		AdminToken: env("ADMIN_TOKEN"), RuntimeToken: env("RUNTIME_TOKEN"), MasterKey: env("MASTER_KEY"),
		DevRepo: env("DEV_REPO"), Environment: env("DEV_ENVIRONMENT"),
		GitHubPrivateKey: env("GITHUB_PRIVATE_KEY"), GitHubWebhookSecret: env("GITHUB_WEBHOOK_SECRET"),
		GitHubAPIURL: env("GITHUB_API_URL"), PublicURL: env("PUBLIC_URL"),
		GitHubWebURL: env("GITHUB_WEB_URL"), GitHubEnvironments: env("GITHUB_ENVIRONMENTS"),
		GitHubMinPermission: env("GITHUB_MIN_PERMISSION"), GitHubSetup: env("GITHUB_SETUP") != "",
		GitHubClientID: env("GITHUB_CLIENT_ID"), GitHubClientSecret: env("GITHUB_CLIENT_SECRET"),
		Isolation: env("ISOLATION"), NPMRegistry: env("NPM_REGISTRY"),
	}
	if v := env("GITHUB_APP_ID"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return c, fmt.Errorf("FLOWGATE_GITHUB_APP_ID %q is not a positive number", v)
		}
		c.GitHubAppID = id
	}
	if f := env("GITHUB_PRIVATE_KEY_FILE"); f != "" && c.GitHubPrivateKey == "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return c, fmt.Errorf("FLOWGATE_GITHUB_PRIVATE_KEY_FILE: %w", err)
		}
		c.GitHubPrivateKey = string(b)
	}
	if v := env("WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 256 {
			return c, fmt.Errorf("FLOWGATE_WORKERS %q is not a number from 1 to 256", v)
		}
		c.Workers = n
	}
	c.AllowHosts = list(env("ALLOW_HOSTS"))
	c.NPMAllow = list(env("NPM_ALLOW"))
	c.DrainDelay = DefaultDrainDelay
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{{"RUNTIME_STALE_MAX", &c.StaleMax}, {"RUNTIME_REFRESH_TIMEOUT", &c.RefreshTimeout}, {"DRAIN_DELAY", &c.DrainDelay}} {
		if v := env(d.name); v != "" {
			t, err := time.ParseDuration(v)
			if err != nil || t < 0 {
				return c, fmt.Errorf("FLOWGATE_%s %q is not a duration such as 30s or 15m", d.name, v)
			}
			*d.to = t
		}
	}
	if v := env("RUNTIME_LOG_QUOTA"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("FLOWGATE_RUNTIME_LOG_QUOTA %q is not a positive number of rows", v)
		}
		c.LogQuotaRows = n
	}
	if v := env("RUNTIME_LOG_QUOTA_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("FLOWGATE_RUNTIME_LOG_QUOTA_BYTES %q is not a positive number of bytes", v)
		}
		c.LogQuotaBytes = n
	}
	return c, nil
}

// Flags registers flags that override c's fields (flags mirror the
// environment variables).
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (FLOWGATE_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory (FLOWGATE_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "postgres://… or a SQLite file (FLOWGATE_DATABASE_URL)")
	fs.StringVar(&c.Artifacts, "artifacts", c.Artifacts, "artifact directory or s3://bucket/prefix (FLOWGATE_ARTIFACTS)")
	fs.StringVar(&c.DevRepo, "dev-repo", c.DevRepo, "a local directory or git repository synced on every change (FLOWGATE_DEV_REPO)")
	fs.StringVar(&c.Isolation, "isolation", c.Isolation, "process (worker processes) or inprocess (FLOWGATE_ISOLATION)")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "after the dev repo's first sync, call its trigger once and print the Result")
}

// Defaults fills in the embedded defaults and checks the combination.
func (c *Config) Defaults() error {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "flowgate-data"
	}
	if c.Environment == "" {
		c.Environment = "production"
	}
	if c.Isolation == "" {
		c.Isolation = "process"
	}

	if c.Isolation != "process" && c.Isolation != "inprocess" {
		return fmt.Errorf("isolation %q: use process or inprocess", c.Isolation)
	}
	if c.NPMRegistry == "" {
		c.NPMRegistry = "https://registry.npmjs.org/"
	}
	if len(c.NPMAllow) == 0 {
		c.NPMAllow = []string{"@kinde/infrastructure"}
	}
	gh := c.GitHubAppID != 0 || c.GitHubPrivateKey != "" || c.GitHubWebhookSecret != ""
	if gh && (c.GitHubAppID == 0 || c.GitHubPrivateKey == "" || c.GitHubWebhookSecret == "") {
		return errors.New("the GitHub integration needs FLOWGATE_GITHUB_APP_ID, FLOWGATE_GITHUB_PRIVATE_KEY (or _FILE) and FLOWGATE_GITHUB_WEBHOOK_SECRET together")
	}
	if c.Demo && c.DevRepo == "" {
		return errors.New("--demo needs a dev repo (--dev-repo or FLOWGATE_DEV_REPO)")
	}
	return nil
}

// GitHub reports whether the GitHub integration is configured.
func (c *Config) GitHub() bool { return c.GitHubAppID != 0 }

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
