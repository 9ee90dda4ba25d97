package ssmapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/store"
)

// libraryOwner is the Owner of the built-in runbooks, as SSM shows
// AWS-owned documents.
const libraryOwner = "Amazon"

// libraryDocument returns a built-in runbook as a stored document would look:
// one version, the default.
func (s *Server) libraryDocument(name string) (store.Document, bool) {
	if s.opts.Library == nil {
		return store.Document{}, false
	}
	src, ok := s.opts.Library.Lookup(name)
	if !ok {
		return store.Document{}, false
	}
	sum := sha256.Sum256(src)
	return store.Document{Name: name, Content: string(src), Format: "YAML", DocumentType: "Automation", Owner: libraryOwner,
		Hash: hex.EncodeToString(sum[:]), Version: 1, IsDefault: true, DefaultVersion: 1, LatestVersion: 1}, true
}

// libraryVersion reports whether a version selector can name the library's
// single version.
func libraryVersion(version string) bool {
	return version == "" || version == "1" || version == store.VersionDefault || version == store.VersionLatest
}

// libraryPage lists the built-in runbooks that f selects and no stored
// document hides, from offset on, at most limit of them. more says whether
// others follow.
func (s *Server) libraryPage(ctx context.Context, f store.DocumentFilter, offset, limit int) (list []store.Document, more bool, err error) {
	if s.opts.Library == nil || len(f.Tags) > 0 {
		return nil, false, nil
	}
	if len(f.Owners) > 0 && !contains(f.Owners, libraryOwner) {
		return nil, false, nil
	}
	if len(f.DocumentTypes) > 0 && !contains(f.DocumentTypes, "Automation") {
		return nil, false, nil
	}
	var all []store.Document
	for _, name := range s.opts.Library.Names() {
		if !strings.HasPrefix(name, f.NamePrefix) {
			continue
		}
		if _, err := s.opts.Store.GetDocument(ctx, name, ""); err == nil {
			continue // a stored document of the same name hides it
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, false, err
		}
		d, _ := s.libraryDocument(name)
		all = append(all, d)
	}
	if offset > len(all) {
		offset = len(all)
	}
	end := min(offset+limit, len(all))
	return all[offset:end], end < len(all), nil
}

const libraryToken = "library:"

func parseLibraryToken(tok string) (int, bool) {
	rest, ok := strings.CutPrefix(tok, libraryToken)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}

// resolveRunbook finds the runbook an execution starts: the store first, then
// the library and the account through Documents.
func (s *Server) resolveRunbook(ctx context.Context, name, version string) (engine.ResolvedDocument, string, error) {
	d, err := s.opts.Store.GetDocument(ctx, name, version)
	if err == nil {
		return engine.ResolvedDocument{Name: d.Name, Version: strconv.Itoa(d.Version), Source: []byte(d.Content)}, d.DocumentType, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return engine.ResolvedDocument{}, "", err
	}
	if _, nerr := s.opts.Store.GetDocument(ctx, name, ""); nerr == nil {
		return engine.ResolvedDocument{}, "", clientError("AutomationDefinitionVersionNotFoundException", "Document %s has no version %s.", name, version)
	}
	if s.opts.Documents != nil {
		r, err := s.opts.Documents.Resolve(ctx, name, version)
		if errors.Is(err, engine.ErrDocumentNotFound) {
			return engine.ResolvedDocument{}, "", clientError("AutomationDefinitionNotFoundException", "Document %s does not exist.", name)
		}
		return r, "Automation", err
	}
	if lib, ok := s.libraryDocument(name); ok {
		if !libraryVersion(version) {
			return engine.ResolvedDocument{}, "", clientError("AutomationDefinitionVersionNotFoundException", "Document %s has no version %s.", name, version)
		}
		return engine.ResolvedDocument{Name: name, Version: "1", Source: []byte(lib.Content)}, "Automation", nil
	}
	return engine.ResolvedDocument{}, "", clientError("AutomationDefinitionNotFoundException", "Document %s does not exist.", name)
}
