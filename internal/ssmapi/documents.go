package ssmapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/store"
)

// maxDocumentBytes is SSM's document size limit.
const maxDocumentBytes = 64 * 1024

var documentNameRE = regexp.MustCompile(`^[a-zA-Z0-9_\-.]{3,128}$`)

// Tag is SSM's Key/Value tag.
type Tag struct {
	Key   string
	Value string
}

// DocumentParameter describes one parameter in DescribeDocument.
type DocumentParameter struct {
	Name         string
	Type         string
	Description  string `json:",omitempty"`
	DefaultValue string `json:",omitempty"`
}

// DocumentDescription is SSM's DocumentDescription.
type DocumentDescription struct {
	Sha1            string `json:",omitempty"`
	Hash            string
	HashType        string
	Name            string
	DisplayName     string `json:",omitempty"`
	VersionName     string `json:",omitempty"`
	Owner           string
	CreatedDate     *Epoch `json:",omitempty"`
	Status          string
	DocumentVersion string
	Description     string              `json:",omitempty"`
	Parameters      []DocumentParameter `json:",omitempty"`
	PlatformTypes   []string
	DocumentType    string
	SchemaVersion   string `json:",omitempty"`
	LatestVersion   string
	DefaultVersion  string
	DocumentFormat  string
	TargetType      string `json:",omitempty"`
	Tags            []Tag
}

func tagList(m map[string]string) []Tag {
	out := []Tag{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, Tag{Key: k, Value: m[k]})
	}
	return out
}

var allPlatforms = []string{"Windows", "Linux", "MacOS"}

func (s *Server) describe(d store.Document) DocumentDescription {
	desc := DocumentDescription{
		Hash: d.Hash, HashType: "Sha256", Name: d.Name, DisplayName: d.DisplayName, VersionName: d.VersionName,
		Owner: d.Owner, CreatedDate: epochOf(d.CreatedDate), Status: "Active", DocumentVersion: strconv.Itoa(d.Version),
		PlatformTypes: allPlatforms, DocumentType: d.DocumentType, DocumentFormat: d.Format,
		LatestVersion: strconv.Itoa(d.LatestVersion), DefaultVersion: strconv.Itoa(d.DefaultVersion), Tags: tagList(d.Tags),
	}
	if doc, _ := document.Parse(d.Name, []byte(d.Content)); doc != nil {
		desc.Description, desc.SchemaVersion = doc.Description, doc.SchemaVersion
		for _, p := range doc.Parameters {
			dp := DocumentParameter{Name: p.Name, Type: string(p.Type), Description: p.Description}
			if p.HasDefault {
				dp.DefaultValue = defaultText(p.Default)
			}
			desc.Parameters = append(desc.Parameters, dp)
		}
	}
	return desc
}

func defaultText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

type createDocumentInput struct {
	Content        string
	Name           string
	DocumentType   string
	DocumentFormat string
	VersionName    string
	DisplayName    string
	TargetType     string
	Tags           []Tag
}

type documentDescriptionOutput struct {
	DocumentDescription DocumentDescription
}

// checkContent validates a document's content as SSM does at creation:
// size, syntax in the declared format and, for runbooks, the schema.
func (s *Server) checkContent(content, format, docType string) error {
	if len(content) > maxDocumentBytes {
		return clientError("MaxDocumentSizeExceeded", "the content exceeds the maximum document size of %d bytes", maxDocumentBytes)
	}
	if strings.TrimSpace(content) == "" {
		return validationError("1 validation error detected: Value at 'content' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	switch format {
	case "JSON":
		if !json.Valid([]byte(content)) {
			return clientError("InvalidDocumentContent", "JSON not well-formed. at Line: 1, Column: 1")
		}
	case "YAML":
		var v any
		if err := yaml.Unmarshal([]byte(content), &v); err != nil {
			return clientError("InvalidDocumentContent", "YAML not well-formed: %v", err)
		}
	case "TEXT":
	default:
		return validationError("DocumentFormat %q is not one of JSON, YAML, TEXT", format)
	}
	if docType != "Automation" {
		return nil
	}
	_, diags := document.Load("content", []byte(content), s.opts.Actions)
	var errs []string
	for _, d := range diags {
		if d.Severity == document.Error {
			errs = append(errs, d.String())
		}
	}
	if len(errs) > 0 {
		return clientError("InvalidDocumentContent", "%s", strings.Join(errs, "\n"))
	}
	return nil
}

func createDocument(s *Server, ctx context.Context, in *createDocumentInput) (*documentDescriptionOutput, error) {
	if in.Name == "" || in.Content == "" {
		return nil, validationError("Name and Content are required")
	}
	if !documentNameRE.MatchString(in.Name) {
		return nil, validationError("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.]{3,128}$", in.Name)
	}
	lower := strings.ToLower(in.Name)
	if strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "amazon") {
		return nil, validationError("Document name must not start with aws or amazon: those are reserved for documents owned by Amazon")
	}
	if in.DocumentType == "" {
		in.DocumentType = "Command"
	}
	if in.DocumentFormat == "" {
		in.DocumentFormat = "JSON"
	}
	if err := s.checkContent(in.Content, in.DocumentFormat, in.DocumentType); err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for _, t := range in.Tags {
		tags[t.Key] = t.Value
	}
	d, err := s.opts.Store.CreateDocument(ctx, store.Document{
		Name: in.Name, Content: in.Content, Format: in.DocumentFormat, DocumentType: in.DocumentType,
		VersionName: in.VersionName, DisplayName: in.DisplayName, Owner: s.opts.AccountID, Tags: tags,
	})
	if errors.Is(err, store.ErrExists) {
		return nil, clientError("DocumentAlreadyExists", "Document with same name %s already exists", in.Name)
	}
	if err != nil {
		return nil, err
	}
	// Reads fill the document-wide fields (default and latest version).
	if d, err = s.opts.Store.GetDocument(ctx, in.Name, strconv.Itoa(d.Version)); err != nil {
		return nil, err
	}
	return &documentDescriptionOutput{DocumentDescription: s.describe(d)}, nil
}

// lookup finds one version of a document by number, selector or VersionName.
func (s *Server) lookup(ctx context.Context, name, version, versionName string) (store.Document, error) {
	if name == "" {
		return store.Document{}, validationError("Name is required")
	}
	if version != "" && version != store.VersionDefault && version != store.VersionLatest {
		if n, err := strconv.Atoi(version); err != nil || n < 1 {
			return store.Document{}, clientError("InvalidDocumentVersion", "Document version %s is not valid", version)
		}
	}
	var d store.Document
	var err error
	if versionName != "" && version == "" {
		d, err = s.opts.Store.GetDocumentByVersionName(ctx, name, versionName)
	} else {
		d, err = s.opts.Store.GetDocument(ctx, name, version)
	}
	if errors.Is(err, store.ErrNotFound) {
		if lib, ok := s.libraryDocument(name); ok {
			if versionName != "" || !libraryVersion(version) {
				return d, clientError("InvalidDocumentVersion", "Document %s has no version %s", name, firstNonEmpty(version, versionName))
			}
			return lib, nil
		}
		if _, nerr := s.opts.Store.GetDocument(ctx, name, ""); errors.Is(nerr, store.ErrNotFound) {
			return d, clientError("InvalidDocument", "Document with name %s does not exist.", name)
		}
		return d, clientError("InvalidDocumentVersion", "Document %s has no version %s", name, firstNonEmpty(version, versionName))
	}
	if err == nil && versionName != "" && d.VersionName != versionName {
		return d, clientError("InvalidDocumentVersion", "Document %s version %s is not named %s", name, version, versionName)
	}
	return d, err
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

type getDocumentInput struct {
	Name            string
	DocumentVersion string
	VersionName     string
	DocumentFormat  string
}

type getDocumentOutput struct {
	Name            string
	CreatedDate     *Epoch `json:",omitempty"`
	DisplayName     string `json:",omitempty"`
	VersionName     string `json:",omitempty"`
	DocumentVersion string
	Status          string
	Content         string
	DocumentType    string
	DocumentFormat  string
}

func getDocument(s *Server, ctx context.Context, in *getDocumentInput) (*getDocumentOutput, error) {
	d, err := s.lookup(ctx, in.Name, in.DocumentVersion, in.VersionName)
	if err != nil {
		return nil, err
	}
	content, format, err := convertFormat(d.Content, d.Format, in.DocumentFormat)
	if err != nil {
		return nil, err
	}
	return &getDocumentOutput{Name: d.Name, CreatedDate: epochOf(d.CreatedDate), DisplayName: d.DisplayName, VersionName: d.VersionName,
		DocumentVersion: strconv.Itoa(d.Version), Status: "Active", Content: content, DocumentType: d.DocumentType, DocumentFormat: format}, nil
}

// convertFormat returns content in the requested format (JSON or YAML), as
// GetDocument's DocumentFormat asks.
func convertFormat(content, have, want string) (string, string, error) {
	if want == "" || want == have || have == "TEXT" {
		return content, have, nil
	}
	var v any
	if err := yaml.Unmarshal([]byte(content), &v); err != nil {
		return "", "", clientError("InvalidDocumentContent", "the stored document does not parse: %v", err)
	}
	switch want {
	case "JSON":
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return "", "", clientError("InvalidDocumentContent", "the document cannot be shown as JSON: %v", err)
		}
		return string(b), want, nil
	case "YAML":
		b, err := yaml.Marshal(v)
		if err != nil {
			return "", "", internalError(err)
		}
		return string(b), want, nil
	}
	return "", "", validationError("DocumentFormat %q is not one of JSON, YAML, TEXT", want)
}

type describeDocumentInput struct {
	Name            string
	DocumentVersion string
	VersionName     string
}

type describeDocumentOutput struct {
	Document DocumentDescription
}

func describeDocument(s *Server, ctx context.Context, in *describeDocumentInput) (*describeDocumentOutput, error) {
	d, err := s.lookup(ctx, in.Name, in.DocumentVersion, in.VersionName)
	if err != nil {
		return nil, err
	}
	return &describeDocumentOutput{Document: s.describe(d)}, nil
}

type keyValues struct {
	Key    string
	Values []string
}

type listDocumentsInput struct {
	Filters            []keyValues
	DocumentFilterList []struct{ Key, Value string } `json:"DocumentFilterList"`
	MaxResults         int
	NextToken          string
}

// DocumentIdentifier is SSM's DocumentIdentifier.
type DocumentIdentifier struct {
	Name            string
	CreatedDate     *Epoch `json:",omitempty"`
	DisplayName     string `json:",omitempty"`
	Owner           string
	VersionName     string `json:",omitempty"`
	PlatformTypes   []string
	DocumentVersion string
	DocumentType    string
	SchemaVersion   string `json:",omitempty"`
	DocumentFormat  string
	TargetType      string `json:",omitempty"`
	Tags            []Tag
}

type listDocumentsOutput struct {
	DocumentIdentifiers []DocumentIdentifier
	NextToken           string `json:",omitempty"`
}

func listDocuments(s *Server, ctx context.Context, in *listDocumentsInput) (*listDocumentsOutput, error) {
	limit, err := maxResults(in.MaxResults)
	if err != nil {
		return nil, err
	}
	f := store.DocumentFilter{Limit: limit, PageToken: in.NextToken, Tags: map[string][]string{}}
	filters := in.Filters
	for _, old := range in.DocumentFilterList {
		// The deprecated form's keys are lowerCamel: name, owner, documentType.
		filters = append(filters, keyValues{Key: strings.ToUpper(old.Key[:min(1, len(old.Key))]) + old.Key[min(1, len(old.Key)):], Values: []string{old.Value}})
	}
	for _, kv := range filters {
		switch {
		case kv.Key == "Name":
			if len(kv.Values) > 0 {
				f.NamePrefix = kv.Values[0]
			}
		case kv.Key == "Owner":
			for _, v := range kv.Values {
				switch v {
				case "Self", "Private":
					f.Owners = append(f.Owners, s.opts.AccountID)
				default:
					f.Owners = append(f.Owners, v)
				}
			}
		case kv.Key == "DocumentType":
			f.DocumentTypes = append(f.DocumentTypes, kv.Values...)
		case kv.Key == "PlatformTypes", kv.Key == "TargetType", kv.Key == "SearchKeyword":
			// Every document runs on every platform here; no target types.
		case strings.HasPrefix(kv.Key, "tag:"):
			f.Tags[strings.TrimPrefix(kv.Key, "tag:")] = kv.Values
		default:
			return nil, clientError("InvalidFilterKey", "The filter key %s is not valid", kv.Key)
		}
	}
	// Stored documents come first, then the library's; a page token
	// "library:N" continues in the library.
	var list []store.Document
	next := ""
	libOffset, inLibrary := parseLibraryToken(in.NextToken)
	if !inLibrary {
		list, next, err = s.opts.Store.ListDocuments(ctx, f)
		if errors.Is(err, store.ErrInvalidToken) {
			return nil, clientError("InvalidNextToken", "The specified token is not valid.")
		}
		if err != nil {
			return nil, err
		}
	}
	if next == "" && len(list) < limit {
		lib, more, err := s.libraryPage(ctx, f, libOffset, limit-len(list))
		if err != nil {
			return nil, err
		}
		list = append(list, lib...)
		if more {
			next = libraryToken + strconv.Itoa(libOffset+len(lib))
		}
	}
	out := &listDocumentsOutput{DocumentIdentifiers: []DocumentIdentifier{}, NextToken: next}
	for _, d := range list {
		id := DocumentIdentifier{Name: d.Name, CreatedDate: epochOf(d.CreatedDate), DisplayName: d.DisplayName, Owner: d.Owner,
			VersionName: d.VersionName, PlatformTypes: allPlatforms, DocumentVersion: strconv.Itoa(d.Version), DocumentType: d.DocumentType,
			DocumentFormat: d.Format, Tags: tagList(d.Tags)}
		if doc, _ := document.Parse(d.Name, []byte(d.Content)); doc != nil {
			id.SchemaVersion = doc.SchemaVersion
		}
		out.DocumentIdentifiers = append(out.DocumentIdentifiers, id)
	}
	return out, nil
}

func maxResults(n int) (int, error) {
	if n == 0 {
		return 50, nil
	}
	if n < 1 || n > 50 {
		return 0, validationError("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50", n)
	}
	return n, nil
}

type updateDocumentInput struct {
	Content         string
	Name            string
	DocumentVersion string
	DocumentFormat  string
	VersionName     string
	DisplayName     string
	TargetType      string
}

func updateDocument(s *Server, ctx context.Context, in *updateDocumentInput) (*documentDescriptionOutput, error) {
	if in.Name == "" || in.Content == "" {
		return nil, validationError("Name and Content are required")
	}
	latest, err := s.lookup(ctx, in.Name, store.VersionLatest, "")
	if err != nil {
		return nil, err
	}
	if latest.Owner == libraryOwner {
		return nil, errLibraryDocument(in.Name)
	}
	if in.DocumentVersion != "" && in.DocumentVersion != store.VersionLatest && in.DocumentVersion != strconv.Itoa(latest.Version) {
		return nil, clientError("InvalidDocumentVersion", "The document version is not valid or does not exist: only the latest version (%d) can be updated", latest.Version)
	}
	format := in.DocumentFormat
	if format == "" {
		format = "JSON"
	}
	if err := s.checkContent(in.Content, format, latest.DocumentType); err != nil {
		return nil, err
	}
	display := in.DisplayName
	if display == "" {
		display = latest.DisplayName
	}
	d, err := s.opts.Store.PutDocument(ctx, store.Document{Name: in.Name, Content: in.Content, Format: format, DocumentType: latest.DocumentType,
		VersionName: in.VersionName, DisplayName: display, Owner: latest.Owner})
	switch {
	case errors.Is(err, store.ErrDuplicateContent):
		return nil, clientError("DuplicateDocumentContent", "The content of the association document matches another document. Change the content of the document and try again.")
	case errors.Is(err, store.ErrDuplicateVersionName):
		return nil, clientError("DuplicateDocumentVersionName", "The version name has already been used in this document. Specify a different version name, and then try again.")
	case err != nil:
		return nil, err
	}
	if d, err = s.opts.Store.GetDocument(ctx, in.Name, strconv.Itoa(d.Version)); err != nil {
		return nil, err
	}
	return &documentDescriptionOutput{DocumentDescription: s.describe(d)}, nil
}

type updateDefaultInput struct {
	Name            string
	DocumentVersion string
}

type updateDefaultOutput struct {
	Description struct {
		Name               string
		DefaultVersion     string
		DefaultVersionName string `json:",omitempty"`
	}
}

func updateDocumentDefaultVersion(s *Server, ctx context.Context, in *updateDefaultInput) (*updateDefaultOutput, error) {
	if in.DocumentVersion == "" {
		return nil, validationError("DocumentVersion is required")
	}
	d, err := s.lookup(ctx, in.Name, in.DocumentVersion, "")
	if err != nil {
		return nil, err
	}
	if d.Owner == libraryOwner {
		return nil, errLibraryDocument(in.Name)
	}
	if err := s.opts.Store.SetDefaultVersion(ctx, d.Name, d.Version); err != nil {
		return nil, err
	}
	out := &updateDefaultOutput{}
	out.Description.Name, out.Description.DefaultVersion, out.Description.DefaultVersionName = d.Name, strconv.Itoa(d.Version), d.VersionName
	return out, nil
}

type listVersionsInput struct {
	Name       string
	MaxResults int
	NextToken  string
}

// DocumentVersionInfo is SSM's DocumentVersionInfo.
type DocumentVersionInfo struct {
	Name             string
	DisplayName      string `json:",omitempty"`
	DocumentVersion  string
	VersionName      string `json:",omitempty"`
	CreatedDate      *Epoch `json:",omitempty"`
	IsDefaultVersion bool
	DocumentFormat   string
	Status           string
}

type listVersionsOutput struct {
	DocumentVersions []DocumentVersionInfo
	NextToken        string `json:",omitempty"`
}

func listDocumentVersions(s *Server, ctx context.Context, in *listVersionsInput) (*listVersionsOutput, error) {
	limit, err := maxResults(in.MaxResults)
	if err != nil {
		return nil, err
	}
	if _, err := s.lookup(ctx, in.Name, "", ""); err != nil {
		return nil, err
	}
	list, next, err := s.opts.Store.ListDocumentVersions(ctx, in.Name, limit, in.NextToken)
	if errors.Is(err, store.ErrInvalidToken) {
		return nil, clientError("InvalidNextToken", "The specified token is not valid.")
	}
	if err != nil {
		return nil, err
	}
	out := &listVersionsOutput{DocumentVersions: []DocumentVersionInfo{}, NextToken: next}
	for _, d := range list {
		out.DocumentVersions = append(out.DocumentVersions, DocumentVersionInfo{Name: d.Name, DisplayName: d.DisplayName, DocumentVersion: strconv.Itoa(d.Version),
			VersionName: d.VersionName, CreatedDate: epochOf(d.CreatedDate), IsDefaultVersion: d.IsDefault, DocumentFormat: d.Format, Status: "Active"})
	}
	return out, nil
}

type deleteDocumentInput struct {
	Name            string
	DocumentVersion string
	VersionName     string
	Force           bool
}

type empty struct{}

func deleteDocument(s *Server, ctx context.Context, in *deleteDocumentInput) (*empty, error) {
	version := in.DocumentVersion
	if version != "" || in.VersionName != "" {
		d, err := s.lookup(ctx, in.Name, in.DocumentVersion, in.VersionName)
		if err != nil {
			return nil, err
		}
		version = strconv.Itoa(d.Version)
	} else if _, err := s.lookup(ctx, in.Name, "", ""); err != nil {
		return nil, err
	}
	if d, ok := s.libraryDocument(in.Name); ok {
		if _, err := s.opts.Store.GetDocument(ctx, d.Name, ""); errors.Is(err, store.ErrNotFound) {
			return nil, errLibraryDocument(in.Name)
		}
	}
	err := s.opts.Store.DeleteDocument(ctx, in.Name, version)
	if errors.Is(err, store.ErrConflict) {
		return nil, clientError("InvalidDocumentOperation", "You attempted to delete the default version of %s while other versions exist. Change the default version first.", in.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("deleting document %s: %w", in.Name, err)
	}
	return &empty{}, nil
}

func errLibraryDocument(name string) *Error {
	return clientError("InvalidDocumentOperation", "%s is a built-in runbook owned by Amazon and cannot be changed; create a copy under another name", name)
}
