//go:build !unix

package wftest

import "errors"

func mkfifo(string) error { return errors.New("named pipes are a Unix feature") }
