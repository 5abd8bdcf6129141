package runtime

import (
	"time"

	"github.com/dlclark/regexp2/v2"
)

// RegexpTimeout bounds one backtracking regexp match. goja runs regexps
// that RE2 cannot (lookaround, backreferences) on regexp2, whose matcher
// never sees vm.Interrupt; a timed-out match returns "no match" and the
// wall-time interrupt then stops the workflow at its next instruction. The
// setting is process-wide (regexp2 reads it when a pattern is compiled), so
// it is set once here.
const RegexpTimeout = time.Second

func init() {
	regexp2.DefaultMatchTimeout = RegexpTimeout
}
