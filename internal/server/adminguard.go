package server

import (
	"time"

	"github.com/flowgate/flowgate/internal/secrets"
)

// adminGuessing bounds guessing the admin token (which an operator may
// have chosen short): after MaxFailures wrong tokens from one address
// within Window, that address gets 429 from the management API, right
// token or not, so a guess that happens to be right cannot be told apart.
var adminGuessing = secrets.LimiterConfig{MaxFailures: 10, Window: 15 * time.Minute}
