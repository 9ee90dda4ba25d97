package main

import (
	"strings"
	"testing"
)

func TestVersionFlag(t *testing.T) {
	code, out, errOut := cli(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "capstan version ") || len(strings.TrimSpace(strings.TrimPrefix(out, "capstan version "))) == 0 {
		t.Errorf("--version: exit %d %q %q", code, out, errOut)
	}
}
