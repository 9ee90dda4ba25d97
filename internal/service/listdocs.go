package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/catalog"
	"github.com/capstan-run/capstan/internal/store"
)

// libraryToken starts the page tokens that continue a listing in the
// built-in library, after the stored documents.
const libraryToken = "library:"

// ListDocuments lists the default version of each document f selects: the
// stored ones, then the built-in library's that no stored document hides.
func (s *Service) ListDocuments(ctx context.Context, p Principal, f store.DocumentFilter) ([]store.Document, string, error) {
	if err := s.authorize(ctx, p, authz.ListDocuments, "*"); err != nil {
		return nil, "", err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	var list []store.Document
	next := ""
	libOffset, inLibrary := parseLibraryToken(f.PageToken)
	if !inLibrary {
		var err error
		list, next, err = s.store.ListDocuments(ctx, f)
		if errors.Is(err, store.ErrInvalidToken) {
			return nil, "", newError(CodeInvalidNextToken, "The specified token is not valid.")
		}
		if err != nil {
			return nil, "", fmt.Errorf("listing documents: %w", err)
		}
	}
	if next == "" && len(list) < limit {
		lib, more, err := s.libraryPage(ctx, f, libOffset, limit-len(list))
		if err != nil {
			return nil, "", err
		}
		list = append(list, lib...)
		if more {
			next = libraryToken + strconv.Itoa(libOffset+len(lib))
		}
	}
	list, err := s.visibleDocuments(ctx, p, list)
	if err != nil {
		return nil, "", err
	}
	return list, next, nil
}

// AllDocuments is ListDocuments over every page.
func (s *Service) AllDocuments(ctx context.Context, p Principal, f store.DocumentFilter) ([]store.Document, error) {
	var all []store.Document
	// Bounded: a store of 10,000 pages of 50 is far beyond any real one.
	for range 10000 {
		list, next, err := s.ListDocuments(ctx, p, f)
		if err != nil {
			return nil, err
		}
		all = append(all, list...)
		if next == "" {
			return all, nil
		}
		f.PageToken = next
	}
	return nil, errors.New("listing documents: the store keeps returning pages")
}

// libraryPage lists the built-in runbooks that f selects and no stored
// document hides, from offset on, at most limit of them. more says whether
// others follow.
func (s *Service) libraryPage(ctx context.Context, f store.DocumentFilter, offset, limit int) (list []store.Document, more bool, err error) {
	lib := s.catalog.Library
	if lib == nil || len(f.Tags) > 0 {
		return nil, false, nil
	}
	if len(f.Owners) > 0 && !slices.Contains(f.Owners, catalog.LibraryOwner) {
		return nil, false, nil
	}
	if len(f.DocumentTypes) > 0 && !slices.Contains(f.DocumentTypes, "Automation") {
		return nil, false, nil
	}
	if len(f.Projects) > 0 && !slices.Contains(f.Projects, store.DefaultProject) {
		return nil, false, nil // the library belongs to the default project
	}
	var all []store.Document
	for _, name := range lib.Names() {
		if !strings.HasPrefix(name, f.NamePrefix) {
			continue
		}
		if _, err := s.store.GetDocument(ctx, name, ""); err == nil {
			continue // a stored document of the same name hides it
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, false, fmt.Errorf("reading document %s: %w", name, err)
		}
		d, _ := s.catalog.LibraryDocument(name)
		all = append(all, d)
	}
	offset = min(offset, len(all))
	end := min(offset+limit, len(all))
	return all[offset:end], end < len(all), nil
}

func parseLibraryToken(tok string) (int, bool) {
	rest, ok := strings.CutPrefix(tok, libraryToken)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}
