package githubapp

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v88/github"
)

// Clients hands out REST clients for the App's installations. Each
// installation's token is fetched with an App JWT (RS256), cached and
// refreshed before it expires (ghinstallation); every request goes through
// the retrying transport. Safe for concurrent use.
type Clients struct {
	appID   int64
	key     *rsa.PrivateKey
	apiURL  *url.URL
	apps    *ghinstallation.AppsTransport
	retrier http.RoundTripper

	mu     sync.Mutex
	byInst map[int64]*github.Client
}

// NewClients builds the client factory for App appID with its PEM private
// key, talking to apiURL (https://api.github.com/ by default; a local
// server in tests). base is the transport under the retries (nil means
// http.DefaultTransport).
func NewClients(appID int64, keyPEM []byte, apiURL string, base http.RoundTripper, retry RetryPolicy) (*Clients, error) {
	if appID <= 0 {
		return nil, fmt.Errorf("GitHub App id %d: set FLOWGATE_GITHUB_APP_ID", appID)
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("GitHub App private key: %w (FLOWGATE_GITHUB_PRIVATE_KEY must be the PEM file GitHub gave you)", err)
	}
	if apiURL == "" {
		apiURL = "https://api.github.com/"
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("FLOWGATE_GITHUB_API_URL %q is not an http(s) URL", apiURL)
	}
	if base == nil {
		base = http.DefaultTransport
	}
	rt := &retryTransport{base: base, policy: retry.withDefaults()}
	apps := ghinstallation.NewAppsTransportFromPrivateKey(rt, appID, key)
	apps.BaseURL = strings.TrimSuffix(apiURL, "/")
	return &Clients{appID: appID, key: key, apiURL: u, apps: apps, retrier: rt, byInst: map[int64]*github.Client{}}, nil
}

// Installation returns the client for installation id.
func (c *Clients) Installation(id int64) *github.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.byInst[id]; ok {
		return cl
	}
	tr := ghinstallation.NewFromAppsTransport(c.apps, id)
	tr.BaseURL = c.apps.BaseURL
	cl, err := github.NewClient(github.WithHTTPClient(&http.Client{Transport: tr}), github.WithURLs(new(c.apiURL.String()), nil))
	if err != nil {
		panic("githubapp: API URL checked by NewClients: " + err.Error())
	}
	c.byInst[id] = cl
	return cl
}

// Forget drops an installation's client (the App was uninstalled).
func (c *Clients) Forget(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byInst, id)
}

// Token returns an installation token, for requests go-github does not
// wrap (the tarball download follows a redirect to another host).
func (c *Clients) Token(ctx context.Context, id int64) (string, error) {
	c.mu.Lock()
	cl, ok := c.byInst[id]
	c.mu.Unlock()
	if !ok {
		cl = c.Installation(id)
	}
	return cl.Client().Transport.(*ghinstallation.Transport).Token(ctx)
}
