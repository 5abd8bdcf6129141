package app

import (
	"maps"
	"net/http"
	"strings"

	"github.com/flowgate/flowgate/internal/console"
)

// consoleRoutes adds the web console (at / and /console/) to routes.
func (a *App) consoleRoutes(routes map[string]http.Handler) (map[string]http.Handler, error) {
	c, err := console.New(console.Options{
		Deploy: a.deploy, Runner: a.runner, AdminToken: a.adminToken, AllowHosts: a.cfg.AllowHosts,
		Secure: strings.HasPrefix(a.cfg.PublicURL, "https://"), Logger: a.log.With("component", "console"),
	})
	if err != nil {
		return nil, err
	}
	if routes == nil {
		routes = map[string]http.Handler{}
	}
	maps.Copy(routes, c.Routes())
	return routes, nil
}
