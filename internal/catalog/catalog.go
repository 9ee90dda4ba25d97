// Package catalog is capstan's one runbook resolver: it finds a runbook by
// name, in the order a user expects: the documents stored in capstan, then
// capstan's built-in library, then the account's own SSM documents
// (ssm:GetDocument), so every AWS-owned runbook runs unchanged wherever
// capstan has credentials. Every front end and aws:executeAutomation resolve
// names here.
package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/store"
)

// Library is the built-in runbook library.
type Library interface {
	Names() []string
	Lookup(name string) ([]byte, bool)
}

// LibraryOwner is the Owner of the built-in runbooks, as SSM shows
// AWS-owned documents.
const LibraryOwner = "Amazon"

// Errors of Find; test with errors.Is.
var (
	// ErrNotFound: no store, library or account knows the runbook.
	ErrNotFound = errors.New("runbook not found")
	// ErrVersionNotFound: the runbook exists but not in the version asked.
	ErrVersionNotFound = errors.New("runbook version not found")
)

// Catalog resolves runbook names.
type Catalog struct {
	Store   store.DocumentStore
	Library Library
	// Account returns a caller for the account's SSM; nil means runbooks are
	// never fetched from an account.
	Account func(ctx context.Context) (action.Invoker, error)

	mu    sync.Mutex
	cache map[string]Runbook // name@version → fetched from the account
}

// Source says where a runbook was found.
type Source string

// Where a runbook can come from, in the order Find looks.
const (
	FromStore   Source = "store"
	FromLibrary Source = "library"
	FromAccount Source = "account"
)

// Runbook is one version of a runbook's source and where it was found.
type Runbook struct {
	Name         string
	Version      string
	Source       []byte
	DocumentType string // Automation, Command, ...
	From         Source
	// Project is the project of a stored runbook; "" (the default project)
	// for the library's and the account's.
	Project string
}

// Find resolves a runbook. version is "" or "$DEFAULT" for the default,
// "$LATEST" or a number; library runbooks have one version, 1. A name the
// store holds is never looked up further: asking it for a version it lacks
// is ErrVersionNotFound, not the library's or the account's copy.
func (c *Catalog) Find(ctx context.Context, name, version string) (Runbook, error) {
	if c.Store != nil {
		d, err := c.Store.GetDocument(ctx, name, version)
		if err == nil {
			return Runbook{Name: d.Name, Version: strconv.Itoa(d.Version), Source: []byte(d.Content), DocumentType: d.DocumentType, From: FromStore, Project: d.Project}, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return Runbook{}, fmt.Errorf("reading stored runbook %s: %w", name, err)
		}
		if version != "" {
			if _, err := c.Store.GetDocument(ctx, name, ""); err == nil {
				return Runbook{}, fmt.Errorf("%w: %s has no version %s in capstan's store", ErrVersionNotFound, name, version)
			}
		}
	}
	if d, ok := c.LibraryDocument(name); ok {
		if !LibraryVersion(version) {
			return Runbook{}, fmt.Errorf("%w: the built-in runbook %s has only version 1, not %s", ErrVersionNotFound, name, version)
		}
		return Runbook{Name: name, Version: "1", Source: []byte(d.Content), DocumentType: d.DocumentType, From: FromLibrary}, nil
	}
	where := "capstan's store or library"
	if c.Account != nil {
		d, err := c.fetch(ctx, name, version)
		var unreachable *accountError
		switch {
		case err == nil:
			return d, nil
		case errors.As(err, &unreachable):
			// Without credentials or a region the account cannot be asked;
			// the runbook is then simply not found, and the reason told.
			where += fmt.Sprintf(", and the account's SSM documents could not be searched (%v)", unreachable.err)
		case errors.Is(err, ErrNotFound):
			where += " or the account's SSM documents"
		default:
			return Runbook{}, err
		}
	}
	v := ""
	if version != "" {
		v = " version " + version
	}
	return Runbook{}, fmt.Errorf("%w: %s%s is not in %s; store one with 'capstan docs put FILE --name %s'", ErrNotFound, name, v, where, name)
}

// accountError: the account's SSM could not be asked at all.
type accountError struct{ err error }

func (e *accountError) Error() string { return "the account cannot be reached: " + e.err.Error() }

func (e *accountError) Unwrap() error { return e.err }

// LibraryDocument returns a built-in runbook as a stored document would look:
// one version, the default, owned by Amazon.
func (c *Catalog) LibraryDocument(name string) (store.Document, bool) {
	if c.Library == nil {
		return store.Document{}, false
	}
	src, ok := c.Library.Lookup(name)
	if !ok {
		return store.Document{}, false
	}
	sum := sha256.Sum256(src)
	return store.Document{Name: name, Content: string(src), Format: "YAML", DocumentType: "Automation", Owner: LibraryOwner,
		Hash: hex.EncodeToString(sum[:]), Version: 1, IsDefault: true, DefaultVersion: 1, LatestVersion: 1}, true
}

// LibraryVersion reports whether a version selector can name a built-in
// runbook's single version.
func LibraryVersion(version string) bool {
	return version == "" || version == "1" || version == store.VersionDefault || version == store.VersionLatest
}

// fetch reads a runbook from the account's SSM, cached by name and version.
func (c *Catalog) fetch(ctx context.Context, name, version string) (Runbook, error) {
	key := name + "@" + version
	c.mu.Lock()
	d, ok := c.cache[key]
	c.mu.Unlock()
	if ok {
		return d, nil
	}
	inv, err := c.Account(ctx)
	if err != nil {
		return Runbook{}, &accountError{err}
	}
	in := map[string]any{"Name": name, "DocumentFormat": "YAML"}
	if version != "" {
		in["DocumentVersion"] = version
	}
	out, err := inv.Invoke(ctx, "ssm", "GetDocument", in)
	if err != nil {
		var coded interface{ ErrorCode() string }
		if errors.As(err, &coded) {
			switch coded.ErrorCode() {
			case "InvalidDocument":
				return Runbook{}, fmt.Errorf("%w: %v", ErrNotFound, err)
			case "InvalidDocumentVersion":
				return Runbook{}, fmt.Errorf("%w: %v", ErrVersionNotFound, err)
			}
		}
		return Runbook{}, fmt.Errorf("fetching %s from the account: %w", name, err)
	}
	content, _ := out["Content"].(string)
	docType, _ := out["DocumentType"].(string)
	ver, _ := out["DocumentVersion"].(string)
	d = Runbook{Name: name, Version: ver, Source: []byte(content), DocumentType: docType, From: FromAccount}
	c.mu.Lock()
	if c.cache == nil {
		c.cache = map[string]Runbook{}
	}
	c.cache[key] = d
	if ver != "" {
		c.cache[name+"@"+ver] = d
	}
	c.mu.Unlock()
	return d, nil
}
