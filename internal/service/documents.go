package service

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/catalog"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
)

// MaxDocumentBytes is SSM's document size limit.
const MaxDocumentBytes = 64 * 1024

var documentNameRE = regexp.MustCompile(`^[a-zA-Z0-9_\-.]{3,128}$`)

// DocumentInput is a new document, or a new version of one.
type DocumentInput struct {
	Name    string
	Content string
	// File names the content in diagnostics when it came from a file;
	// default Name.
	File string
	// DocumentType defaults to Command (SSM's default) for a new document;
	// a new version keeps the document's type.
	DocumentType string
	// Format is JSON, YAML or TEXT; default JSON, as SSM's.
	Format      string
	VersionName string
	DisplayName string
	Tags        map[string]string
	// Project is the project of a new document ("" for the ProjectTag
	// among Tags, else default); an update keeps the document's.
	Project string
	// DocumentVersion, for an update, must be the latest version or
	// $LATEST when set.
	DocumentVersion string
}

// CreateDocument stores version 1 of a new document, with SSM's rules on
// names (3 to 128 of letters, digits, _-.; no aws or amazon prefix), size and
// content. The document is owned by the service's account.
func (s *Service) CreateDocument(ctx context.Context, p Principal, in DocumentInput) (_ store.Document, err error) {
	defer func() { s.record(ctx, p, authz.CreateDocument, s.scope().Document(in.Name), "", err) }()
	project, userTags, err := takeProject(in.Project, in.Tags)
	if err != nil {
		return store.Document{}, err
	}
	project = store.ProjectOf(project)
	if err := s.checkProject(project); err != nil {
		return store.Document{}, err
	}
	if err := s.authorizeIn(ctx, p, authz.CreateDocument, in.Name, project); err != nil {
		return store.Document{}, err
	}
	if in.Name == "" || in.Content == "" {
		return store.Document{}, newError(CodeValidation, "Name and Content are required")
	}
	if !documentNameRE.MatchString(in.Name) {
		return store.Document{}, newError(CodeValidation, "1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.]{3,128}$", in.Name)
	}
	tags, err := creatorTags(p, userTags)
	if err != nil {
		return store.Document{}, err
	}
	lower := strings.ToLower(in.Name)
	if strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "amazon") {
		return store.Document{}, newError(CodeValidation, "Document name must not start with aws or amazon: those are reserved for documents owned by Amazon")
	}
	if in.DocumentType == "" {
		in.DocumentType = "Command"
	}
	if in.Format == "" {
		in.Format = "JSON"
	}
	if err := s.checkContent(cmp.Or(in.File, in.Name), in.Content, in.Format, in.DocumentType); err != nil {
		return store.Document{}, err
	}
	d, err := s.store.CreateDocument(ctx, store.Document{
		Name: in.Name, Content: in.Content, Format: in.Format, DocumentType: in.DocumentType,
		VersionName: in.VersionName, DisplayName: in.DisplayName, Owner: s.account, Tags: tags, Project: project,
	})
	if errors.Is(err, store.ErrExists) {
		return store.Document{}, newError(CodeDocumentExists, "Document with same name %s already exists", in.Name)
	}
	if err != nil {
		return store.Document{}, fmt.Errorf("storing document %s: %w", in.Name, err)
	}
	return s.reread(ctx, d)
}

// UpdateDocument stores a new version of a document; the built-in library's
// runbooks cannot be changed.
func (s *Service) UpdateDocument(ctx context.Context, p Principal, in DocumentInput) (_ store.Document, err error) {
	defer func() { s.record(ctx, p, authz.UpdateDocument, s.scope().Document(in.Name), "", err) }()
	if err := s.authorize(ctx, p, authz.UpdateDocument, in.Name); err != nil {
		return store.Document{}, err
	}
	if in.Name == "" || in.Content == "" {
		return store.Document{}, newError(CodeValidation, "Name and Content are required")
	}
	latest, err := s.lookup(ctx, in.Name, store.VersionLatest, "")
	if err != nil {
		return store.Document{}, err
	}
	if latest.Owner == catalog.LibraryOwner {
		return store.Document{}, errLibraryDocument(in.Name)
	}
	if in.Project != "" && in.Project != store.ProjectOf(latest.Project) {
		return store.Document{}, newError(CodeValidation, "document %s belongs to project %s: a document's project is fixed when it is created", in.Name, store.ProjectOf(latest.Project))
	}
	if in.DocumentVersion != "" && in.DocumentVersion != store.VersionLatest && in.DocumentVersion != strconv.Itoa(latest.Version) {
		return store.Document{}, newError(CodeInvalidDocumentVersion, "The document version is not valid or does not exist: only the latest version (%d) can be updated", latest.Version)
	}
	if in.Format == "" {
		in.Format = "JSON"
	}
	if err := s.checkContent(cmp.Or(in.File, in.Name), in.Content, in.Format, latest.DocumentType); err != nil {
		return store.Document{}, err
	}
	if in.DisplayName == "" {
		in.DisplayName = latest.DisplayName
	}
	d, err := s.store.PutDocument(ctx, store.Document{Name: in.Name, Content: in.Content, Format: in.Format, DocumentType: latest.DocumentType,
		VersionName: in.VersionName, DisplayName: in.DisplayName, Owner: latest.Owner})
	switch {
	case errors.Is(err, store.ErrDuplicateContent):
		return store.Document{}, newError(CodeDuplicateContent, "The content of the association document matches another document. Change the content of the document and try again.")
	case errors.Is(err, store.ErrDuplicateVersionName):
		return store.Document{}, newError(CodeDuplicateVersionName, "The version name has already been used in this document. Specify a different version name, and then try again.")
	case err != nil:
		return store.Document{}, fmt.Errorf("storing document %s: %w", in.Name, err)
	}
	return s.reread(ctx, d)
}

// PutDocument creates the document, or adds a version when it exists: what
// `capstan docs put` does, under the same rules as the API's create and
// update.
func (s *Service) PutDocument(ctx context.Context, p Principal, in DocumentInput) (store.Document, error) {
	_, err := s.store.GetDocument(ctx, in.Name, "")
	if errors.Is(err, store.ErrNotFound) {
		return s.CreateDocument(ctx, p, in)
	}
	if err != nil {
		return store.Document{}, fmt.Errorf("reading document %s: %w", in.Name, err)
	}
	return s.UpdateDocument(ctx, p, in)
}

// reread returns a stored version with the document-wide fields (default
// and latest version) filled.
func (s *Service) reread(ctx context.Context, d store.Document) (store.Document, error) {
	out, err := s.store.GetDocument(ctx, d.Name, strconv.Itoa(d.Version))
	if err != nil {
		return store.Document{}, fmt.Errorf("reading document %s: %w", d.Name, err)
	}
	return out, nil
}

// checkContent validates a document's content as SSM does at creation:
// size, syntax in the declared format and, for runbooks, the schema.
func (s *Service) checkContent(name, content, format, docType string) error {
	if len(content) > MaxDocumentBytes {
		return newError(CodeMaxDocumentSize, "the content of %s is %d bytes; the maximum document size is %d bytes", name, len(content), MaxDocumentBytes)
	}
	if strings.TrimSpace(content) == "" {
		return newError(CodeValidation, "1 validation error detected: Value at 'content' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	switch format {
	case "JSON":
		if !json.Valid([]byte(content)) {
			return newError(CodeInvalidDocumentContent, "JSON not well-formed. at Line: 1, Column: 1")
		}
	case "YAML":
		var v any
		if err := yaml.Unmarshal([]byte(content), &v); err != nil {
			return newError(CodeInvalidDocumentContent, "YAML not well-formed: %v", err)
		}
	case "TEXT":
	default:
		return newError(CodeValidation, "DocumentFormat %q is not one of JSON, YAML, TEXT", format)
	}
	if docType != "Automation" {
		return nil
	}
	doc, diags := document.Load(name, []byte(content), s.actions)
	if doc != nil && !document.HasErrors(diags) {
		diags = append(diags, Lint(doc, s.actions)...)
	}
	if document.HasErrors(diags) {
		return newError(CodeInvalidDocumentContent, "%s", errorLines(diags))
	}
	return nil
}

// GetDocument returns one version of a document by number, selector
// ($DEFAULT, $LATEST) or VersionName; built-in runbooks are documents owned
// by Amazon.
func (s *Service) GetDocument(ctx context.Context, p Principal, name, version, versionName string) (store.Document, error) {
	if err := s.authorize(ctx, p, authz.GetDocument, name); err != nil {
		return store.Document{}, err
	}
	return s.lookup(ctx, name, version, versionName)
}

func (s *Service) lookup(ctx context.Context, name, version, versionName string) (store.Document, error) {
	if name == "" {
		return store.Document{}, newError(CodeValidation, "Name is required")
	}
	if version != "" && version != store.VersionDefault && version != store.VersionLatest {
		if n, err := strconv.Atoi(version); err != nil || n < 1 {
			return store.Document{}, newError(CodeInvalidDocumentVersion, "Document version %s is not valid", version)
		}
	}
	var d store.Document
	var err error
	if versionName != "" && version == "" {
		d, err = s.store.GetDocumentByVersionName(ctx, name, versionName)
	} else {
		d, err = s.store.GetDocument(ctx, name, version)
	}
	if errors.Is(err, store.ErrNotFound) {
		if lib, ok := s.catalog.LibraryDocument(name); ok {
			if versionName != "" || !catalog.LibraryVersion(version) {
				return d, newError(CodeInvalidDocumentVersion, "Document %s has no version %s", name, firstNonEmpty(version, versionName))
			}
			return lib, nil
		}
		if _, nerr := s.store.GetDocument(ctx, name, ""); errors.Is(nerr, store.ErrNotFound) {
			return d, newError(CodeInvalidDocument, "Document with name %s does not exist.", name)
		}
		return d, newError(CodeInvalidDocumentVersion, "Document %s has no version %s", name, firstNonEmpty(version, versionName))
	}
	if err != nil {
		return d, fmt.Errorf("reading document %s: %w", name, err)
	}
	if versionName != "" && d.VersionName != versionName {
		return d, newError(CodeInvalidDocumentVersion, "Document %s version %s is not named %s", name, version, versionName)
	}
	return d, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// SetDefaultVersion makes a version the document's default.
func (s *Service) SetDefaultVersion(ctx context.Context, p Principal, name, version string) (_ store.Document, err error) {
	defer func() { s.record(ctx, p, authz.UpdateDocumentDefaultVersion, s.scope().Document(name), version, err) }()
	if err := s.authorize(ctx, p, authz.UpdateDocumentDefaultVersion, name); err != nil {
		return store.Document{}, err
	}
	if version == "" {
		return store.Document{}, newError(CodeValidation, "DocumentVersion is required")
	}
	d, err := s.lookup(ctx, name, version, "")
	if err != nil {
		return store.Document{}, err
	}
	if d.Owner == catalog.LibraryOwner {
		return store.Document{}, errLibraryDocument(name)
	}
	if err := s.store.SetDefaultVersion(ctx, d.Name, d.Version); err != nil {
		return store.Document{}, fmt.Errorf("setting the default version of %s: %w", name, err)
	}
	return d, nil
}

// ListDocumentVersions lists a document's versions, oldest first.
func (s *Service) ListDocumentVersions(ctx context.Context, p Principal, name string, limit int, token string) ([]store.Document, string, error) {
	if err := s.authorize(ctx, p, authz.ListDocumentVersions, name); err != nil {
		return nil, "", err
	}
	if lib, err := s.lookup(ctx, name, "", ""); err != nil {
		return nil, "", err
	} else if lib.Owner == catalog.LibraryOwner {
		return []store.Document{lib}, "", nil
	}
	list, next, err := s.store.ListDocumentVersions(ctx, name, limit, token)
	if errors.Is(err, store.ErrInvalidToken) {
		return nil, "", newError(CodeInvalidNextToken, "The specified token is not valid.")
	}
	if err != nil {
		return nil, "", fmt.Errorf("listing the versions of %s: %w", name, err)
	}
	return list, next, nil
}

// DeleteDocument deletes one version (a number, $LATEST, or the version
// named versionName), or the whole document when both are "".
func (s *Service) DeleteDocument(ctx context.Context, p Principal, name, version, versionName string) (err error) {
	defer func() {
		s.record(ctx, p, authz.DeleteDocument, s.scope().Document(name), cmp.Or(version, versionName), err)
	}()
	if err := s.authorize(ctx, p, authz.DeleteDocument, name); err != nil {
		return err
	}
	d, err := s.lookup(ctx, name, version, versionName)
	if err != nil {
		return err
	}
	if d.Owner == catalog.LibraryOwner {
		return errLibraryDocument(name)
	}
	if version != "" || versionName != "" {
		version = strconv.Itoa(d.Version)
	}
	err = s.store.DeleteDocument(ctx, name, version)
	if errors.Is(err, store.ErrConflict) {
		return newError(CodeInvalidOperation, "You attempted to delete the default version of %s while other versions exist. Change the default version first.", name)
	}
	if err != nil {
		return fmt.Errorf("deleting document %s: %w", name, err)
	}
	return nil
}

func errLibraryDocument(name string) *Error {
	return newError(CodeInvalidOperation, "%s is a built-in runbook owned by Amazon and cannot be changed; create a copy under another name", name)
}
