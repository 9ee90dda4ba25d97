// Package store defines capstan's durable store: the event log and summary
// rows of executions, the versioned documents, sealed key storage, the users
// of the SSM-compatible API and the record of AWS calls an execution made.
//
// Executions are event-sourced: every change of an execution is a batch of
// events appended in one transaction together with the execution's summary
// row. The store keeps events opaque; the engine folds them into state.
//
// The embedded implementation is package store/sqlite; package
// store/storetest holds the conformance suite every implementation passes.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors; implementations wrap them with context, so test with
// errors.Is.
var (
	// ErrNotFound: the execution, document, version, secret or user does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: an execution id, client token, document name or user name
	// (or access key id) is already taken.
	ErrExists = errors.New("already exists")
	// ErrConflict: an optimistic-concurrency check failed (Append with a stale
	// Seq), or the operation is not allowed in the current state (deleting the
	// default version of a document that has other versions).
	ErrConflict = errors.New("conflict")
	// ErrDuplicateContent: a new document version has the same content as
	// one of the document's versions (SSM's DuplicateDocumentContent).
	ErrDuplicateContent = errors.New("duplicate document content")
	// ErrDuplicateVersionName: a new document version reuses a VersionName
	// of the same document (SSM's DuplicateDocumentVersionName).
	ErrDuplicateVersionName = errors.New("duplicate document version name")
	// ErrInvalidToken: a page token that this store did not issue.
	ErrInvalidToken = errors.New("invalid page token")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store closed")
)

// DefaultProject is the project of everything created without one.
const DefaultProject = "default"

// ProjectOf is the project a record names: DefaultProject for "".
func ProjectOf(project string) string {
	if project == "" {
		return DefaultProject
	}
	return project
}

// Event is one change of an execution. Data is JSON chosen by the engine;
// the store never looks inside.
type Event struct {
	Seq  int64 // 1, 2, 3 ... per execution; assigned by the store
	Type string
	Time time.Time // set to the current time by the store when zero
	Data []byte
}

// Execution is the summary row of an execution, written by the engine in the
// same transaction as the events that changed it. It serves listings
// (DescribeAutomationExecutions) and recovery without folding every log.
type Execution struct {
	ID              string
	DocumentName    string
	DocumentVersion string
	Status          string
	Mode            string
	ParentID        string
	ExecutedBy      string
	CurrentStep     string
	CurrentAction   string
	AutomationType  string
	FailureMessage  string
	// Project is the project the execution runs in, fixed at creation; ""
	// is stored as DefaultProject.
	Project string
	// ClientToken is StartAutomationExecution's idempotency token; empty for
	// none. CreateExecution fails with ErrExists when another execution holds it.
	ClientToken string
	StartTime   time.Time
	EndTime     time.Time // zero while running
	Tags        map[string]string
	Outputs     map[string][]string
	// Done marks a terminal execution; Unfinished returns the others.
	Done bool
	// LeaseOwner and LeaseUntil, on CreateExecution, give the new
	// execution's runner lease (LeaseStore) to LeaseOwner in the same
	// write, so no other process resumes it before its starter runs it.
	// Append ignores them. Reads give the stored lease: who runs the
	// execution and until when (Owner "" when released; a lease whose
	// Until has passed is nobody's any more).
	LeaseOwner string
	LeaseUntil time.Time
	// Seq is the sequence number of the execution's last event. On Append it
	// is the Seq the caller last saw; the store refuses the append with
	// ErrConflict when it differs from the stored one.
	Seq int64
}

// ExecutionFilter selects executions for ListExecutions. Empty fields do not
// filter; the values of one field are alternatives (OR), fields combine with AND.
type ExecutionFilter struct {
	DocumentNamePrefix string
	// IDPrefix selects the executions whose id starts with it.
	IDPrefix        string
	DocumentNames   []string // exact names
	ExecutedBy      []string // exact ExecutedBy values (ARNs or names)
	Statuses        []string
	IDs             []string
	ParentIDs       []string
	CurrentActions  []string
	StartTimeBefore time.Time // StartTime strictly before
	StartTimeAfter  time.Time // StartTime strictly after
	AutomationTypes []string
	Projects        []string
	TagKeys         []string // executions holding any of these tag keys
	Limit           int      // page size; <= 0 means 50
	PageToken       string   // from a previous call; "" for the first page
}

// Document is one version of a document. Tags belong to the document (all
// versions share them).
type Document struct {
	Name         string
	Content      string
	Format       string // JSON | YAML | TEXT
	DocumentType string // Automation | Command | ...
	VersionName  string
	DisplayName  string
	Owner        string
	Hash         string // hex sha256 of Content; computed by the store
	Version      int    // 1..n, assigned by the store
	CreatedDate  time.Time
	IsDefault    bool              // filled on reads
	Tags         map[string]string // set when the name is created
	// Project is the project the document belongs to, set when the name is
	// created (like Tags); "" is stored as DefaultProject.
	Project string
	// DefaultVersion and LatestVersion describe the document as a whole;
	// filled on reads (DescribeDocument reports both).
	DefaultVersion int
	LatestVersion  int
}

// Document version selectors accepted by GetDocument and DeleteDocument,
// besides a decimal version number.
const (
	VersionDefault = "$DEFAULT"
	VersionLatest  = "$LATEST"
)

// DocumentFilter selects documents for ListDocuments, which lists the default
// version of each. Values of one field are alternatives; fields combine with AND.
type DocumentFilter struct {
	NamePrefix    string
	DocumentTypes []string
	Owners        []string
	Projects      []string
	// Tags: every key must be present; a non-empty value list means the tag's
	// value must be one of them.
	Tags      map[string][]string
	Limit     int // <= 0 means 50
	PageToken string
}

// User is an identity of the SSM-compatible API. The secret access key is
// stored sealed (encrypted by package keys); the store never sees it in clear.
type User struct {
	Name         string
	ARN          string
	AccessKeyID  string // unique across users
	SealedSecret []byte
	Created      time.Time // set to the current time by the store when zero
}

// Call is one AWS call an execution made, kept for audit and for deriving
// least-privilege policies from real runs.
type Call struct {
	Step      string
	Service   string // boto3 service name: ec2, logs, ...
	Operation string // DescribeInstances
	IAMAction string // ec2:DescribeInstances
	Start     time.Time
	Duration  time.Duration
	ErrorCode string // "" on success
	// ErrorMessage, Request and Response (JSON, the API model's member
	// names) are kept only when the run asks for them (capstan run
	// --record-calls): they may hold secrets. capstan record turns them
	// into a test's mocks.
	ErrorMessage string
	Request      []byte
	Response     []byte
}

// Pinger is the readiness probe of a store.
type Pinger interface {
	// Ping returns nil when the store takes writes now: an empty write goes
	// through a write transaction as every change does.
	Ping(ctx context.Context) error
}

// Store is the durable store: every concern in one value. Every method is
// safe for concurrent use. A second backend can implement the concerns one
// by one; package storetest checks each concern on its own.
type Store interface {
	ExecutionStore
	DocumentStore
	SecretStore
	UserStore
	CallStore
	SignalStore
	LeaseStore
	// Close waits for pending writes and releases the store.
	Close() error
}

// ExecutionStore holds executions: their event logs and summary rows.
type ExecutionStore interface {
	// CreateExecution stores a new execution with its first events, numbered
	// from 1 (e.Seq is ignored). ErrExists when the id or the client token is
	// taken. Events' Seq fields are set in place.
	CreateExecution(ctx context.Context, e Execution, events []Event) error
	// Append adds events to an execution and replaces its summary row with e,
	// in one transaction. e.Seq must equal the stored Seq (ErrConflict
	// otherwise; ErrNotFound for an unknown id); the events get e.Seq+1, ...
	// in place and the stored Seq becomes e.Seq+len(events). ClientToken,
	// StartTime and ParentID are fixed at creation; Append ignores them.
	// calls, if any, are recorded as by AppendCalls in the same transaction,
	// after the calls appended before: the engine hands over the calls a step
	// made with the event that ends it, saving them a commit of their own.
	Append(ctx context.Context, e Execution, events []Event, calls ...Call) error
	// Execution returns the summary row.
	Execution(ctx context.Context, id string) (Execution, error)
	// Events returns the events with Seq > afterSeq in order. ErrNotFound for
	// an unknown id.
	Events(ctx context.Context, id string, afterSeq int64) ([]Event, error)
	// ListExecutions lists executions newest first (StartTime, then id, both
	// descending); nextToken is "" on the last page.
	ListExecutions(ctx context.Context, f ExecutionFilter) (list []Execution, nextToken string, err error)
	// Unfinished returns every execution with Done false, oldest first.
	Unfinished(ctx context.Context) ([]Execution, error)
	// ClientToken returns the id of the execution started with token;
	// ErrNotFound when none.
	ClientToken(ctx context.Context, token string) (executionID string, err error)
	// DeleteFinished deletes at most limit finished executions (Done) whose
	// EndTime is before before, oldest first, with their events, calls and
	// signal requests,
	// and returns how many it deleted (0 when none is left). Unfinished
	// executions are never touched, and each call holds the store's writes
	// for one short batch only, so running executions go on meanwhile.
	DeleteFinished(ctx context.Context, before time.Time, limit int) (int, error)
}

// DocumentStore holds the versioned documents.
type DocumentStore interface {
	// PutDocument stores d as version 1 (and default) of a new name, or as the
	// next version of an existing one; ErrDuplicateContent when Content equals
	// that of any of its versions, ErrDuplicateVersionName when VersionName is
	// already used by the name. Returns the stored version.
	PutDocument(ctx context.Context, d Document) (Document, error)
	// CreateDocument is PutDocument for a new name only: ErrExists otherwise.
	CreateDocument(ctx context.Context, d Document) (Document, error)
	// GetDocument returns one version: "" or "$DEFAULT" for the default,
	// "$LATEST", or a decimal version number.
	GetDocument(ctx context.Context, name, version string) (Document, error)
	// GetDocumentByVersionName returns the version named versionName.
	GetDocumentByVersionName(ctx context.Context, name, versionName string) (Document, error)
	// ListDocuments lists the default version of each matching document,
	// ordered by name.
	ListDocuments(ctx context.Context, f DocumentFilter) ([]Document, string, error)
	// ListDocumentVersions lists every version of name, oldest first, without
	// Content. limit <= 0 means 50.
	ListDocumentVersions(ctx context.Context, name string, limit int, token string) ([]Document, string, error)
	// SetDefaultVersion makes version the default; ErrNotFound when the name
	// or version does not exist.
	SetDefaultVersion(ctx context.Context, name string, version int) error
	// DeleteDocument deletes one version ("$LATEST" or a number), or every
	// version when version is "". Deleting the default version while others
	// remain is ErrConflict.
	DeleteDocument(ctx context.Context, name, version string) error
}

// Secret is one key-storage path: the project it belongs to and its value
// sealed by package keys.
type Secret struct {
	Path string
	// Project is the project whose executions may read the value; "" is
	// stored as DefaultProject.
	Project string
	Sealed  []byte
}

// SecretStore holds sealed key storage; it never sees a secret in clear.
type SecretStore interface {
	// PutSecret stores (or replaces) the sealed bytes and the project at s.Path.
	PutSecret(ctx context.Context, s Secret) error
	// GetSecret returns what is stored at exactly path.
	GetSecret(ctx context.Context, path string) (Secret, error)
	// ListSecrets returns the paths starting with prefix with their
	// projects, sorted by path; Sealed is left nil.
	ListSecrets(ctx context.Context, prefix string) ([]Secret, error)
	// DeleteSecret removes path; ErrNotFound when absent.
	DeleteSecret(ctx context.Context, path string) error
}

// UserStore holds the users of the SSM-compatible API.
type UserStore interface {
	// PutUser creates or replaces the user named u.Name. ErrExists when
	// another user holds u.AccessKeyID.
	PutUser(ctx context.Context, u User) error
	// GetUser returns the user by name.
	GetUser(ctx context.Context, name string) (User, error)
	// GetUserByAccessKey returns the user holding accessKeyID.
	GetUserByAccessKey(ctx context.Context, accessKeyID string) (User, error)
	// ListUsers returns every user ordered by name.
	ListUsers(ctx context.Context) ([]User, error)
	// DeleteUser removes the user; ErrNotFound when absent.
	DeleteUser(ctx context.Context, name string) error
}

// CallStore holds the record of the AWS calls executions made.
type CallStore interface {
	// AppendCalls records AWS calls of execution id; ErrNotFound for an
	// unknown execution.
	AppendCalls(ctx context.Context, id string, calls []Call) error
	// Calls returns the calls of execution id in the order they were appended.
	Calls(ctx context.Context, id string) ([]Call, error)
}
