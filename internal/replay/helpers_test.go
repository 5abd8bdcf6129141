package replay

import "regexp"

var durationLine = regexp.MustCompile(`(?m)^.*p50.*$`)

// stripDurations removes the duration lines, which vary from run to run.
func stripDurations(s string) string { return durationLine.ReplaceAllString(s, "") }
