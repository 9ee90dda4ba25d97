package ssmapi

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/ssmshape"
	"github.com/capstan-run/capstan/internal/store"
)

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
	CreatedDate     *ssmshape.Time `json:",omitempty"`
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

// documentTags are a document's tags as SSM shows them, with its project
// under service.ProjectTag, so an API caller sees which project it is in.
func documentTags(d store.Document) []Tag {
	tags := maps.Clone(d.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	tags[service.ProjectTag] = store.ProjectOf(d.Project)
	return tagList(tags)
}

var allPlatforms = []string{"Windows", "Linux", "MacOS"}

func describe(d store.Document) DocumentDescription {
	desc := DocumentDescription{
		Hash: d.Hash, HashType: "Sha256", Name: d.Name, DisplayName: d.DisplayName, VersionName: d.VersionName,
		Owner: d.Owner, CreatedDate: epochOf(d.CreatedDate), Status: "Active", DocumentVersion: strconv.Itoa(d.Version),
		PlatformTypes: allPlatforms, DocumentType: d.DocumentType, DocumentFormat: d.Format,
		LatestVersion: strconv.Itoa(d.LatestVersion), DefaultVersion: strconv.Itoa(d.DefaultVersion), Tags: documentTags(d),
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

func createDocument(s *Server, ctx context.Context, in *createDocumentInput) (*documentDescriptionOutput, error) {
	d, err := s.opts.Service.CreateDocument(ctx, principal(ctx), service.DocumentInput{
		Name: in.Name, Content: in.Content, DocumentType: in.DocumentType, Format: in.DocumentFormat,
		VersionName: in.VersionName, DisplayName: in.DisplayName, Tags: tagMap(in.Tags),
	})
	if err != nil {
		return nil, err
	}
	return &documentDescriptionOutput{DocumentDescription: describe(d)}, nil
}

func tagMap(tags []Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

type getDocumentInput struct {
	Name            string
	DocumentVersion string
	VersionName     string
	DocumentFormat  string
}

type getDocumentOutput struct {
	Name            string
	CreatedDate     *ssmshape.Time `json:",omitempty"`
	DisplayName     string         `json:",omitempty"`
	VersionName     string         `json:",omitempty"`
	DocumentVersion string
	Status          string
	Content         string
	DocumentType    string
	DocumentFormat  string
}

func getDocument(s *Server, ctx context.Context, in *getDocumentInput) (*getDocumentOutput, error) {
	d, err := s.opts.Service.GetDocument(ctx, principal(ctx), in.Name, in.DocumentVersion, in.VersionName)
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
	d, err := s.opts.Service.GetDocument(ctx, principal(ctx), in.Name, in.DocumentVersion, in.VersionName)
	if err != nil {
		return nil, err
	}
	return &describeDocumentOutput{Document: describe(d)}, nil
}

type listDocumentsInput struct {
	Filters            []ssmshape.Filter
	DocumentFilterList []ssmshape.DocumentFilterItem `json:"DocumentFilterList"`
	MaxResults         int
	NextToken          string
}

// DocumentIdentifier is SSM's DocumentIdentifier.
type DocumentIdentifier struct {
	Name            string
	CreatedDate     *ssmshape.Time `json:",omitempty"`
	DisplayName     string         `json:",omitempty"`
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
	f, err := ssmshape.DocumentFilter(in.Filters, in.DocumentFilterList, s.opts.Service.AccountID())
	if err != nil {
		return nil, err
	}
	f.Limit, f.PageToken = limit, in.NextToken
	list, next, err := s.opts.Service.ListDocuments(ctx, principal(ctx), f)
	if err != nil {
		return nil, err
	}
	out := &listDocumentsOutput{DocumentIdentifiers: []DocumentIdentifier{}, NextToken: next}
	for _, d := range list {
		id := DocumentIdentifier{Name: d.Name, CreatedDate: epochOf(d.CreatedDate), DisplayName: d.DisplayName, Owner: d.Owner,
			VersionName: d.VersionName, PlatformTypes: allPlatforms, DocumentVersion: strconv.Itoa(d.Version), DocumentType: d.DocumentType,
			DocumentFormat: d.Format, Tags: documentTags(d)}
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
	d, err := s.opts.Service.UpdateDocument(ctx, principal(ctx), service.DocumentInput{
		Name: in.Name, Content: in.Content, Format: in.DocumentFormat, VersionName: in.VersionName,
		DisplayName: in.DisplayName, DocumentVersion: in.DocumentVersion,
	})
	if err != nil {
		return nil, err
	}
	return &documentDescriptionOutput{DocumentDescription: describe(d)}, nil
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
	d, err := s.opts.Service.SetDefaultVersion(ctx, principal(ctx), in.Name, in.DocumentVersion)
	if err != nil {
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
	VersionName      string         `json:",omitempty"`
	CreatedDate      *ssmshape.Time `json:",omitempty"`
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
	list, next, err := s.opts.Service.ListDocumentVersions(ctx, principal(ctx), in.Name, limit, in.NextToken)
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
	if err := s.opts.Service.DeleteDocument(ctx, principal(ctx), in.Name, in.DocumentVersion, in.VersionName); err != nil {
		return nil, err
	}
	return &empty{}, nil
}
