// Package catalog finds runbooks by name, in the order a user expects: the
// documents stored in capstan, then capstan's built-in library, then the
// account's own SSM documents (ssm:GetDocument), so every AWS-owned runbook
// runs unchanged wherever capstan has credentials.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/store"
)

// Library is the built-in runbook library.
type Library interface {
	Names() []string
	Lookup(name string) ([]byte, bool)
}

// Catalog resolves runbook names. It implements engine.Documents.
type Catalog struct {
	Store   store.Store
	Library Library
	// Account returns a caller for the account's SSM; nil means runbooks are
	// never fetched from an account.
	Account func(ctx context.Context) (action.Invoker, error)

	mu    sync.Mutex
	cache map[string]engine.ResolvedDocument // name@version → fetched from the account
}

// Source says where a runbook was found.
type Source string

const (
	FromStore   Source = "store"
	FromLibrary Source = "library"
	FromAccount Source = "account"
)

// Resolve implements engine.Documents.
func (c *Catalog) Resolve(ctx context.Context, name, version string) (engine.ResolvedDocument, error) {
	d, _, err := c.Find(ctx, name, version)
	return d, err
}

// Find resolves a runbook and says where it came from. version is "" for
// the default, "$LATEST" or a number; library runbooks have one version, 1.
func (c *Catalog) Find(ctx context.Context, name, version string) (engine.ResolvedDocument, Source, error) {
	if c.Store != nil {
		d, err := c.Store.GetDocument(ctx, name, version)
		if err == nil {
			return engine.ResolvedDocument{Name: d.Name, Version: strconv.Itoa(d.Version), Source: []byte(d.Content)}, FromStore, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return engine.ResolvedDocument{}, "", fmt.Errorf("reading stored runbook %s: %w", name, err)
		}
	}
	if c.Library != nil {
		if src, ok := c.Library.Lookup(name); ok && (version == "" || version == "1" || version == store.VersionLatest || version == store.VersionDefault) {
			return engine.ResolvedDocument{Name: name, Version: "1", Source: src}, FromLibrary, nil
		}
	}
	if c.Account != nil {
		d, err := c.fetch(ctx, name, version)
		if err == nil {
			return d, FromAccount, nil
		}
		if !errors.Is(err, engine.ErrDocumentNotFound) {
			return engine.ResolvedDocument{}, "", err
		}
	}
	where := "capstan's store or library"
	if c.Account != nil {
		where += " or the account's SSM documents"
	}
	v := ""
	if version != "" {
		v = " version " + version
	}
	return engine.ResolvedDocument{}, "", fmt.Errorf("%w: %s%s is not in %s (store one with 'capstan docs put FILE --name %s')", engine.ErrDocumentNotFound, name, v, where, name)
}

// fetch reads a runbook from the account's SSM, cached by name and version.
func (c *Catalog) fetch(ctx context.Context, name, version string) (engine.ResolvedDocument, error) {
	key := name + "@" + version
	c.mu.Lock()
	d, ok := c.cache[key]
	c.mu.Unlock()
	if ok {
		return d, nil
	}
	inv, err := c.Account(ctx)
	if err != nil {
		return engine.ResolvedDocument{}, fmt.Errorf("fetching %s from the account: %w", name, err)
	}
	in := map[string]any{"Name": name, "DocumentFormat": "YAML"}
	if version != "" {
		in["DocumentVersion"] = version
	}
	out, err := inv.Invoke(ctx, "ssm", "GetDocument", in)
	if err != nil {
		var coded interface{ ErrorCode() string }
		if errors.As(err, &coded) && (coded.ErrorCode() == "InvalidDocument" || coded.ErrorCode() == "InvalidDocumentVersion") {
			return engine.ResolvedDocument{}, fmt.Errorf("%w: %v", engine.ErrDocumentNotFound, err)
		}
		return engine.ResolvedDocument{}, fmt.Errorf("fetching %s from the account: %w", name, err)
	}
	content, _ := out["Content"].(string)
	if t, _ := out["DocumentType"].(string); t != "" && t != "Automation" {
		return engine.ResolvedDocument{}, fmt.Errorf("%s in the account is a %s document, not an Automation runbook", name, t)
	}
	ver, _ := out["DocumentVersion"].(string)
	d = engine.ResolvedDocument{Name: name, Version: ver, Source: []byte(content)}
	c.mu.Lock()
	if c.cache == nil {
		c.cache = map[string]engine.ResolvedDocument{}
	}
	c.cache[key] = d
	if ver != "" {
		c.cache[name+"@"+ver] = d
	}
	c.mu.Unlock()
	return d, nil
}

// Entry is one runbook of a listing.
type Entry struct {
	Name    string
	Version string
	Source  Source
	Format  string
}

// List lists the stored runbooks (their default versions) and the library's,
// stored ones first; a stored runbook hides a library one of the same name.
func (c *Catalog) List(ctx context.Context) ([]Entry, error) {
	var out []Entry
	seen := map[string]bool{}
	if c.Store != nil {
		token := ""
		for {
			docs, next, err := c.Store.ListDocuments(ctx, store.DocumentFilter{PageToken: token})
			if err != nil {
				return nil, fmt.Errorf("listing stored runbooks: %w", err)
			}
			for _, d := range docs {
				out = append(out, Entry{Name: d.Name, Version: strconv.Itoa(d.Version), Source: FromStore, Format: d.Format})
				seen[d.Name] = true
			}
			if next == "" {
				break
			}
			token = next
		}
	}
	if c.Library != nil {
		for _, n := range c.Library.Names() {
			if !seen[n] {
				out = append(out, Entry{Name: n, Version: "1", Source: FromLibrary, Format: "YAML"})
			}
		}
	}
	return out, nil
}

var _ engine.Documents = (*Catalog)(nil)
