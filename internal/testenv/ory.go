package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// Hydra returns the path of a real Ory Hydra v2.3.0 binary: the one
// FLOWGATE_TEST_HYDRA names (printed by `.ci/hydra.sh`), or the cached build
// that script leaves in ${FLOWGATE_TOOLS:-$HOME/.cache/flowgate-tools}.
// Without either the test skips locally and fails under
// FLOWGATE_REQUIRE_DEPS=1.
func Hydra(t testing.TB) string {
	t.Helper()
	return oryBinary(t, "FLOWGATE_TEST_HYDRA", "hydra-v2.3.0", "Ory Hydra v2.3.0 binary (FLOWGATE_TEST_HYDRA)",
		"run `eval \"$(.ci/hydra.sh)\"` (what .ci/run does; it builds Hydra from the Go module proxy once, 2-3 minutes, and caches it)")
}

// Kratos returns the path of a real Ory Kratos v1.3.1 binary, found like
// Hydra's (FLOWGATE_TEST_KRATOS, `.ci/kratos.sh`).
func Kratos(t testing.TB) string {
	t.Helper()
	return oryBinary(t, "FLOWGATE_TEST_KRATOS", "kratos-v1.3.1", "Ory Kratos v1.3.1 binary (FLOWGATE_TEST_KRATOS)",
		"run `eval \"$(.ci/kratos.sh)\"` (what .ci/run does; it builds Kratos from the Go module proxy once, 2-3 minutes, and caches it)")
}

func oryBinary(t testing.TB, envVar, name, what, how string) string {
	t.Helper()
	candidates := []string{os.Getenv(envVar)}
	tools := os.Getenv("FLOWGATE_TOOLS")
	if tools == "" {
		if home, err := os.UserHomeDir(); err == nil {
			tools = filepath.Join(home, ".cache", "flowgate-tools")
		}
	}
	if tools != "" {
		candidates = append(candidates, filepath.Join(tools, name))
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return c
		}
	}
	missing(t, what, how)
	return ""
}
