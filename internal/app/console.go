package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"maps"
	"net/http"
	"strings"

	"github.com/flowgate/flowgate/internal/console"
	"github.com/flowgate/flowgate/internal/secrets"
)

// consoleRoutes adds the web console (at / and /console/) to routes. With
// the GitHub App configured and FLOWGATE_GITHUB_CLIENT_ID/_SECRET set (the
// App's OAuth credentials), people sign in with GitHub too.
func (a *App) consoleRoutes(routes map[string]http.Handler) (map[string]http.Handler, error) {
	opts := console.Options{
		Deploy: a.deploy, Runner: a.runner, AdminToken: a.adminToken, AllowHosts: a.cfg.AllowHosts,
		Secure: strings.HasPrefix(a.cfg.PublicURL, "https://"), Logger: a.log.With("component", "console"),
	}
	// Sessions are signed under a key from the master key and the admin
	// token: a session cookie then confirms no offline guess of the token,
	// and changing the token still signs everyone out.
	if d, ok := a.cipher.(secrets.KeyDeriver); ok {
		m := hmac.New(sha256.New, d.Subkey("console sessions v1"))
		m.Write([]byte(a.adminToken))
		opts.SessionKey = m.Sum(nil)
	}
	// Sign-in with GitHub uses the App's OAuth credentials.
	if id, secret := a.cfg.GitHubClientID, a.cfg.GitHubClientSecret; a.cfg.GitHub() && id != "" && secret != "" {
		opts.GitHub = &console.GitHubOAuth{ClientID: id, ClientSecret: secret, APIURL: a.cfg.GitHubAPIURL,
			WebURL: a.cfg.GitHubWebURL, PublicURL: a.cfg.PublicURL, MinPermission: a.cfg.GitHubMinPermission}
	}
	if a.github != nil {
		opts.SyncAgain = a.syncAgain
	}
	c, err := console.New(opts)
	if err != nil {
		return nil, err
	}
	if routes == nil {
		routes = map[string]http.Handler{}
	}
	maps.Copy(routes, c.Routes())
	return routes, nil
}
