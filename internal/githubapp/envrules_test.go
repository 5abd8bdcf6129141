package githubapp

import (
	"strings"
	"testing"
)

// TestParseEnvRulesEnvironmentNames: the mapping takes exactly the
// environment names the APIs answer for (workflow.CheckEnvironment).
func TestParseEnvRulesEnvironmentNames(t *testing.T) {
	for _, tc := range []struct {
		env string
		ok  bool
	}{
		{"staging.eu", true},
		{"prod_2-a", true},
		{strings.Repeat("e", 128), true},
		{strings.Repeat("e", 129), false},
		{"..", false},
		{"a/b", false},
		{"a%2Fb", false},
		{"été", false},
	} {
		rules, err := ParseEnvRules("acme/flows@main=" + tc.env)
		if (err == nil) != tc.ok {
			t.Errorf("environment %q: err %v, want ok=%v", tc.env, err, tc.ok)
			continue
		}
		if tc.ok && (len(rules) != 1 || rules[0].Env != tc.env) {
			t.Errorf("environment %q: rules %+v", tc.env, rules)
		}
	}
}
