package runtime

import (
	"sync"
	"time"

	"github.com/dlclark/regexp2/v2"
)

// RegexpTimeout bounds one backtracking regexp match. goja runs regexps
// that RE2 cannot (lookaround, backreferences) on regexp2, whose matcher
// never sees vm.Interrupt; a timed-out match returns "no match". regexp2
// reads the timeout from a package variable when a pattern is compiled
// (goja offers no per-pattern setting), so the first Engine sets it once;
// a run's own bound is its wall time, which the guards enforce between
// matches (a native loop such as filter(RegExp.prototype.test, re) stops
// at the next match once the run is over). See LIMITS.md.
const RegexpTimeout = 250 * time.Millisecond

var regexpOnce sync.Once

func setRegexpTimeout() {
	regexpOnce.Do(func() {
		if regexp2.DefaultMatchTimeout > RegexpTimeout {
			regexp2.DefaultMatchTimeout = RegexpTimeout
		}
	})
}
