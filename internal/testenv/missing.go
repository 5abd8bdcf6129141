package testenv

import "testing"

// Missing skips t locally and fails it under .ci/run, for an outside part
// (a package, a server) that a test found absent; how says how to get it.
func Missing(t testing.TB, what, how string) {
	t.Helper()
	missing(t, what, how)
}
