package catalog

import (
	"context"
	"errors"
	"testing"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/mototest"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/store/sqlite"
)

type lib map[string]string

func (l lib) Names() []string {
	var n []string
	for k := range l {
		n = append(n, k)
	}
	return n
}

func (l lib) Lookup(name string) ([]byte, bool) {
	s, ok := l[name]
	return []byte(s), ok
}

const runbook = "schemaVersion: \"0.3\"\nmainSteps:\n  - {name: nap, action: aws:sleep, inputs: {Duration: PT0S}}\n"

// TestFindOrder checks store, then library, then the account's SSM (moto).
func TestFindOrder(t *testing.T) {
	ctx := context.Background()
	moto := mototest.Start(t)
	moto.SetEnv(t)
	cfg, err := awsapi.LoadConfig(ctx, awsapi.LoadOptions{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	inv := awsapi.New(cfg, awsapi.Options{})
	if _, err := inv.Invoke(ctx, "ssm", "CreateDocument", map[string]any{
		"Name": "Team-Runbook", "Content": runbook, "DocumentType": "Automation", "DocumentFormat": "YAML",
	}); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, t.TempDir()+"/c.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.PutDocument(ctx, store.Document{Name: "Mine", Content: runbook, Format: "YAML", DocumentType: "Automation"}); err != nil {
		t.Fatal(err)
	}
	calls := 0
	c := &Catalog{Store: db, Library: lib{"AWS-Lib": runbook, "Mine": "shadowed"}, Account: func(context.Context) (action.Invoker, error) {
		calls++
		return inv, nil
	}}
	for _, tc := range []struct {
		name string
		want Source
	}{{"Mine", FromStore}, {"AWS-Lib", FromLibrary}, {"Team-Runbook", FromAccount}, {"Team-Runbook", FromAccount}} {
		d, err := c.Find(ctx, tc.name, "")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if src := d.From; src != tc.want || string(d.Source) != runbook {
			t.Errorf("%s found in %s (%q), want %s", tc.name, src, d.Source, tc.want)
		}
	}
	if calls != 1 {
		t.Errorf("the account was asked %d times; a fetched runbook is cached", calls)
	}
	_, err = c.Find(ctx, "Nowhere", "")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing runbook: %v", err)
	}
	// A stored name never falls through to another source's copy.
	if _, err := c.Find(ctx, "Mine", "7"); !errors.Is(err, ErrVersionNotFound) {
		t.Errorf("Mine version 7: %v, want ErrVersionNotFound", err)
	}
	if _, err := c.Find(ctx, "AWS-Lib", "2"); !errors.Is(err, ErrVersionNotFound) {
		t.Errorf("AWS-Lib version 2: %v, want ErrVersionNotFound", err)
	}
}
