//go:build !unix

package hostilebuild

import "errors"

func mkfifo(p string) error { return errors.New("no named pipes on this platform") }
