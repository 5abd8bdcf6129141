package workflow

import (
	"errors"
	"fmt"
)

// MaxEnvironmentName is the longest environment name, in bytes.
const MaxEnvironmentName = 128

// ErrEnvironmentName is wrapped by every refusal of CheckEnvironment.
var ErrEnvironmentName = errors.New("invalid environment name")

// CheckEnvironment is the one rule for environment names, used wherever a
// name enters (the GitHub mapping, syncs, both HTTP APIs, the console, the
// hooks, the CLI): 1-128 ASCII letters, digits, '-', '_' or '.', and not
// "." or "..". Every such name is its own path segment in a URL (no
// escaping, no dot-segment a client or mux would collapse), a file name
// and a log field as it is.
func CheckEnvironment(name string) error {
	if name == "" || len(name) > MaxEnvironmentName {
		return fmt.Errorf("environment names are 1-%d characters: %w", MaxEnvironmentName, ErrEnvironmentName)
	}
	if name == "." || name == ".." {
		return fmt.Errorf("environment name %q is a path segment of its own: %w", name, ErrEnvironmentName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("environment name %q: only letters, digits, '-', '_' and '.' are allowed: %w", name, ErrEnvironmentName)
		}
	}
	return nil
}

// ValidEnvironment reports whether CheckEnvironment accepts name.
func ValidEnvironment(name string) bool { return CheckEnvironment(name) == nil }
