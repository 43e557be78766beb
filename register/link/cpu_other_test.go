//go:build !unix

package link_test

import "time"

func cpuTime() (time.Duration, bool) { return 0, false }
