package app

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"text/tabwriter"
)

// Setting is one FLOWGATE_* environment variable as --help lists it.
type Setting struct {
	Var     string // without the FLOWGATE_ prefix
	Flag    string // the flag that mirrors it, if any
	Default string
	Meaning string
}

// Settings lists every setting the service reads (a test checks that each
// FLOWGATE_ variable this package reads is here).
var Settings = []Setting{
	{"ADDR", "--addr", "127.0.0.1:8080", "listen address (0.0.0.0:8080 in a container)"},
	{"DATA_DIR", "--data-dir", "./flowgate-data", "SQLite file, artifacts, generated master key and tokens (0700)"},
	{"DATABASE_URL", "--database-url", "<data dir>/flowgate.db", "postgres://… (several replicas) or a SQLite file"},
	{"ARTIFACTS", "--artifacts", "<data dir>/artifacts", "artifact directory, or s3://bucket/prefix"},
	{"S3_ENDPOINT", "", "AWS", "an S3-compatible server (path-style); credentials from the AWS chain"},
	{"MASTER_KEY", "", "generated <data dir>/master.key", "Base64 of 32 bytes: encrypts secrets at rest; new,old rotates"},
	{"ADMIN_TOKEN", "", "generated <data dir>/admin-token", "bearer token of the management API; signs people in to the console"},
	{"RUNTIME_TOKEN", "", "generated <data dir>/runtime-token", "runtime API bearer token of environment production"},
	{"DEV_REPO", "--dev-repo", "none", "a local directory or git repository synced on every change"},
	{"DEV_ENVIRONMENT", "", "production", "the environment the dev repo syncs into"},
	{"ISOLATION", "--isolation", "process", "process: worker processes; inprocess: in the app's own process"},
	{"WORKERS", "", "number of CPUs", "sandbox worker processes (1-256)"},
	{"ALLOW_HOSTS", "", "none", "comma-separated private HOST[:PORT]s kinde.fetch may reach (development)"},
	{"RUNTIME_STALE_MAX", "", "15m", "how old the runtime state served while the database is away may get"},
	{"RUNTIME_REFRESH_TIMEOUT", "", "2s", "bound on each read of the runtime state from the database"},
	{"DRAIN_DELAY", "", "5s", "on SIGTERM, /readyz answers 503 this long before the listener closes"},
	{"RUNTIME_LOG_QUOTA", "", "200000", "runtime log rows kept per environment, oldest dropped first"},
	{"RUNTIME_LOG_QUOTA_BYTES", "", "268435456", "runtime log message bytes kept per environment"},
	{"NPM_REGISTRY", "", "https://registry.npmjs.org/", "where syncs fetch the npm packages workflows import"},
	{"NPM_ALLOW", "", "@kinde/infrastructure", "comma-separated packages syncs may install"},
	{"GITHUB_APP_ID", "", "none", "the GitHub App's id (with the private key and webhook secret)"},
	{"GITHUB_PRIVATE_KEY", "", "none", "the App's private key (PEM)"},
	{"GITHUB_PRIVATE_KEY_FILE", "", "none", "a file holding the App's private key"},
	{"GITHUB_WEBHOOK_SECRET", "", "none", "the App's webhook secret"},
	{"GITHUB_API_URL", "", "https://api.github.com/", "GitHub's REST API (GitHub Enterprise)"},
	{"GITHUB_WEB_URL", "", "https://github.com", "GitHub's web address (App setup, console sign-in)"},
	{"GITHUB_ENVIRONMENTS", "", "default branch → production", "more mappings: owner/repo@branch=env,…"},
	{"GITHUB_MIN_PERMISSION", "", "write", "repository permission needed to change things (slash commands, console)"},
	{"GITHUB_SETUP", "", "off", "1 serves the one-click GitHub App setup page"},
	{"GITHUB_CLIENT_ID", "", "none", "the App's OAuth client id: people sign in to the console with GitHub"},
	{"GITHUB_CLIENT_SECRET", "", "none", "the App's OAuth client secret"},
	{"PUBLIC_URL", "", "none", "where people reach the app: links, OAuth callback, Secure cookies when https"},
}

// PrintSettings writes the settings as a table.
func PrintSettings(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  VARIABLE\tFLAG\tDEFAULT\tMEANING")
	for _, s := range Settings {
		flag := s.Flag
		if flag == "" {
			flag = "-"
		}
		fmt.Fprintf(tw, "  FLOWGATE_%s\t%s\t%s\t%s\n", s.Var, flag, s.Default, s.Meaning)
	}
	tw.Flush()
}

// loopbackWebhook says why GitHub could not deliver webhooks to this app,
// or "" when it can as far as the configuration tells.
func loopbackWebhook(cfg Config) string {
	if !cfg.GitHub() && !cfg.GitHubSetup {
		return ""
	}
	host := ""
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil {
			return ""
		}
		host = u.Hostname()
	} else {
		host, _, _ = net.SplitHostPort(cfg.Addr)
		if host == "" || host == "0.0.0.0" || host == "::" {
			return "" // listening on every address: the public one may be reachable
		}
	}
	ip := net.ParseIP(host)
	if strings.EqualFold(host, "localhost") || ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		return "GitHub cannot reach a loopback address: its webhooks to " + host + " will never arrive; set FLOWGATE_PUBLIC_URL to an address GitHub can reach (or a tunnel to this one)"
	}
	return ""
}
