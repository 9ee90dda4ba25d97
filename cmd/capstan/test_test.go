package main

import (
	"strings"
	"testing"
)

func TestTestCommand(t *testing.T) {
	const dir = "../../internal/runbooktest/testdata/"
	code, out, _ := cli(t, "test", dir+"pass.test.yaml", dir+"library.test.yaml")
	if code != 0 || !strings.HasSuffix(out, "2 passed, 0 failed\n") || strings.Count(out, "PASS ") != 2 {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, out, _ = cli(t, "test", dir+"pass.test.yaml", dir+"badstep.test.yaml", dir+"missing.test.yaml")
	if code != 1 || !strings.HasSuffix(out, "1 passed, 2 failed\n") || !strings.Contains(out, "FAIL "+dir+"missing.test.yaml") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if code, _, _ := cli(t, "test"); code != 2 {
		t.Errorf("no files: exit %d, want 2", code)
	}
}
