// Package service is the one layer between capstan's front ends (the CLI,
// the SSM-compatible API, and the ones to come) and the store: documents
// with SSM's rules, executions (one start path for every front end and for
// child runs; list, get, stop, signal) and users.
//
// Every method takes the caller as an explicit Principal, right after the
// context. Authorization belongs in exactly one place: Service.authorize,
// which every method calls before it reads or changes anything, naming the
// IAM-style action (ssm:StartAutomationExecution, ...) and the resource; it
// asks the caller's policy (package authz, authorize.go) and nothing else
// decides.
package service

import (
	"context"
	"log/slog"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/catalog"
	"github.com/capstan-run/capstan/internal/config"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/keys"
	"github.com/capstan-run/capstan/internal/store"
)

// DefaultAccountID is the account capstan reports when none is configured:
// the owner of the documents users create and the account of users' ARNs.
const DefaultAccountID = "000000000000"

// Principal is the caller of a service method: an API user, or the person
// running the CLI on a local store.
type Principal struct {
	// Name is the user name (a capstan user, or the local account's).
	Name string
	// ARN is the IAM-style ARN of an API user; empty for a local user.
	ARN string
}

// WebhookPrincipal is the identity webhook name starts executions as; its
// policy is stored under its Name.
func WebhookPrincipal(account, name string) Principal {
	return Principal{Name: "webhook/" + name, ARN: "arn:aws:iam::" + account + ":user/webhook/" + name}
}

// SchedulePrincipal is the identity schedule name starts executions as.
func SchedulePrincipal(account, name string) Principal {
	return Principal{Name: "schedule/" + name, ARN: "arn:aws:iam::" + account + ":user/schedule/" + name}
}

// Anonymous is the caller when the API runs without authentication.
var Anonymous = Principal{Name: "anonymous", ARN: "arn:aws:iam::" + DefaultAccountID + ":user/anonymous"}

// ExecutedBy is how executions record the principal: its ARN, else its name.
func (p Principal) ExecutedBy() string {
	if p.ARN != "" {
		return p.ARN
	}
	return p.Name
}

// Options configure a Service. Store and Engine.Actions are required.
type Options struct {
	Store store.Store
	// Engine configures the engine the service runs executions on. Its
	// Store defaults to Store; its Children is the service itself, so child
	// runs take the same start path as every front end.
	Engine engine.Options
	// Library is the built-in runbook library; optional.
	Library catalog.Library
	// Account returns a caller for the account's SSM, from which runbooks
	// the store and library lack are fetched; nil means never.
	Account func(ctx context.Context) (action.Invoker, error)
	// AccountID owns the documents users create and goes into users' ARNs;
	// default DefaultAccountID.
	AccountID string
	// Keys are the options of the key storage that seals users' secrets.
	Keys keys.Options
	// Policies gives API users the policies they act under (authorize.go).
	// Nil allows every caller everything: a single-user setup.
	Policies *authz.Loader
	// Projects are the projects documents, executions and keys belong to,
	// each with the settings its executions run with. The zero value has
	// the default project alone, with the system settings.
	Projects config.Projects
	Logger   *slog.Logger
}

// Service is capstan's service layer. Its methods are safe for concurrent use.
type Service struct {
	store   store.Store
	engine  *engine.Engine
	actions *action.Registry
	catalog *catalog.Catalog
	account string
	region  string
	keys    keys.Options
	logger  *slog.Logger
	users   userCache
	nodes   nodeCache
	// newInvoker makes a caller of AWS as an execution's (engine.Options).
	newInvoker func(context.Context, engine.InvokerRequest) (action.Invoker, error)
	// audit is the store's audit log, nil when it keeps none.
	audit store.AuditLog
	// policies decide what API users may do; nil allows everything.
	policies *authz.Loader
	projects config.Projects
}

// New returns a Service and starts nothing: call ResumeAll to continue the
// unfinished executions.
func New(opts Options) *Service {
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Service{
		store:   opts.Store,
		actions: opts.Engine.Actions,
		catalog: &catalog.Catalog{Store: opts.Store, Library: opts.Library, Account: opts.Account},
		account: opts.AccountID,
		region:  opts.Engine.Region,

		newInvoker: opts.Engine.NewInvoker,
		keys:       opts.Keys,
		logger:     opts.Logger,

		policies: opts.Policies,
		projects: opts.Projects,
	}
	s.audit, _ = opts.Store.(store.AuditLog)
	eo := opts.Engine
	if eo.Store == nil {
		eo.Store = opts.Store
	}
	if eo.Logger == nil {
		eo.Logger = opts.Logger
	}
	eo.Children = s
	s.engine = engine.New(eo)
	return s
}

// Engine is the engine executions run on, for waiting on a run in this
// process and shutting down.
func (s *Service) Engine() *engine.Engine { return s.engine }

// Catalog is the runbook resolver.
func (s *Service) Catalog() *catalog.Catalog { return s.catalog }

// AccountID is the account documents and users belong to.
func (s *Service) AccountID() string { return s.account }

// authorize decides whether p may do act (one of package authz's action
// names) on resource (a document name, an execution id, a user name; "*" for
// listings). It is the single place for authorization: every method calls
// it first. The caller's policy decides (authorize.go).
func (s *Service) authorize(ctx context.Context, p Principal, act string, resource string) error {
	return s.decide(ctx, p, act, resource, "")
}

// authorizeIn is authorize for an action that puts something into project
// (a new document, execution or key): capstan:Project is that project
// rather than the one stored with the resource.
func (s *Service) authorizeIn(ctx context.Context, p Principal, act, resource, project string) error {
	return s.decide(ctx, p, act, resource, project)
}
