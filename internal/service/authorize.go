package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/store"
)

// CodeAccessDenied is a request the caller's policy does not allow.
const CodeAccessDenied Code = "AccessDeniedException"

// CreatedByTag is the document tag holding the user who created it, the
// capstan:Owner of policies. Callers cannot set it.
const CreatedByTag = "capstan:CreatedBy"

// decide is authorize's policy check: the caller's policies (from
// Options.Policies) decide on the resource's ARN, with the condition keys
// read from the resource itself (who started an execution, who created a
// document). A local principal (the CLI on its own store) and a service
// without policies allow everything, as before policies existed.
func (s *Service) decide(ctx context.Context, p Principal, act, resource, project string) error {
	if s.policies == nil || p.ARN == "" {
		return nil
	}
	if act == authz.DescribeAutomationExecutions || act == authz.ListDocuments || act == authz.ListProjects {
		// A listing shows only what the caller may see (visibleExecutions,
		// visibleDocuments): one with no grant lists nothing.
		return nil
	}
	req, err := s.request(ctx, act, resource)
	if err != nil {
		return err
	}
	if project != "" {
		req.Project = project
	}
	who, err := s.policies.Principal(ctx, p.Name, p.ARN)
	if err != nil {
		return err
	}
	if err := who.Authorize(req); err != nil {
		return &Error{Code: CodeAccessDenied, Message: err.Error(), Err: err}
	}
	return nil
}

func (s *Service) scope() authz.Scope { return authz.Scope{Region: s.region, Account: s.account} }

// request builds the authorizer's request for act on resource (a document
// name, an execution id, a user name or "*").
func (s *Service) request(ctx context.Context, act string, resource string) (authz.Request, error) {
	sc := s.scope()
	req := authz.Request{Action: act}
	switch act {
	case authz.GetAutomationExecution, authz.StopAutomationExecution, authz.SendAutomationSignal:
		req.Resource = sc.Execution(resource)
		e, err := s.store.Execution(ctx, resource)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// Decided on the ARN alone; the method then reports the miss.
		case err != nil:
			return req, fmt.Errorf("reading execution %s: %w", resource, err)
		default:
			req.ExecutedBy, req.Project = userName(e.ExecutedBy), store.ProjectOf(e.Project)
		}
	case authz.StartAutomationExecution, authz.StartExecutionPreview:
		req.Resource = sc.AutomationDefinition(resource, "")
		// An execution runs in its runbook's project unless the caller
		// names one (authorizeIn); the library's runbooks are default's.
		req.Project = store.DefaultProject
		d, ok, err := s.documentOf(ctx, resource)
		if err != nil {
			return req, err
		}
		if ok {
			req.Project = store.ProjectOf(d.Project)
		}
	case authz.DescribeAutomationExecutions, authz.ListDocuments, authz.ListUsers:
		req.Resource = "*"
	case authz.CreateUser, authz.DeleteUser, authz.UpdateUserPolicy, authz.UpdateLoginProfile:
		req.Resource = sc.User(resource)
	case authz.CreateWebhook, authz.UpdateWebhook, authz.DeleteWebhook:
		req.Resource = sc.Webhook(resource)
	case authz.CreateSchedule, authz.UpdateSchedule, authz.DeleteSchedule:
		req.Resource = sc.Schedule(resource)
	case authz.GetProject, authz.ListNodes:
		// The node inventory is a project's: its account, read with its
		// credentials.
		req.Resource, req.Project = sc.Project(resource), resource
	case authz.ReadAudit:
		req.Resource = sc.Audit()
	case authz.ListKeys, authz.RotateMasterKey:
		// A listing is decided on its prefix, key/PREFIX*, without a
		// project; visibleKeys then decides on each key with its project.
		req.Resource = sc.Key(resource)
	case authz.PutKey, authz.DeleteKey, authz.ReadKey:
		req.Resource = sc.Key(resource)
		project, err := s.keyProject(ctx, resource)
		if err != nil {
			return req, fmt.Errorf("reading key %s: %w", resource, err)
		}
		req.Project = project
	default: // documents
		req.Resource = sc.Document(resource)
		if act != authz.CreateDocument {
			d, ok, err := s.documentOf(ctx, resource)
			if err != nil {
				return req, err
			}
			if ok {
				req.Owner, req.Project = d.Tags[CreatedByTag], store.ProjectOf(d.Project)
			}
		}
	}
	return req, nil
}

// documentOf reads the document a request names, for its condition keys;
// ok is false when there is none (decided on the ARN alone; the method then
// reports the miss).
func (s *Service) documentOf(ctx context.Context, name string) (store.Document, bool, error) {
	d, err := s.store.GetDocument(ctx, name, "")
	switch {
	case errors.Is(err, store.ErrNotFound):
		return d, false, nil
	case err != nil:
		return d, false, fmt.Errorf("reading document %s: %w", name, err)
	}
	return d, true, nil
}

// visible keeps the items of a listing p may see: each item's request
// (the listing action on the item's ARN, with its condition keys) must be
// allowed, so a listing shows nothing the caller could not read on its
// own. A local principal and a service without policies see everything.
func visible[T any](ctx context.Context, s *Service, p Principal, list []T, req func(sc authz.Scope, item T) authz.Request) ([]T, error) {
	if s.policies == nil || p.ARN == "" {
		return list, nil
	}
	who, err := s.policies.Principal(ctx, p.Name, p.ARN)
	if err != nil {
		return nil, err
	}
	sc := s.scope()
	out := list[:0]
	for _, item := range list {
		if who.Allows(req(sc, item)) {
			out = append(out, item)
		}
	}
	return out, nil
}

// visibleExecutions keeps the executions p may read.
func (s *Service) visibleExecutions(ctx context.Context, p Principal, list []store.Execution) ([]store.Execution, error) {
	return visible(ctx, s, p, list, func(sc authz.Scope, e store.Execution) authz.Request {
		return authz.Request{Action: authz.DescribeAutomationExecutions, Resource: sc.Execution(e.ID), ExecutedBy: userName(e.ExecutedBy), Project: store.ProjectOf(e.Project)}
	})
}

// visibleProjects keeps the projects p may list (capstan:ListProjects on
// each project's ARN, with its name as capstan:Project).
func (s *Service) visibleProjects(ctx context.Context, p Principal, names []string) ([]string, error) {
	return visible(ctx, s, p, names, func(sc authz.Scope, n string) authz.Request {
		return authz.Request{Action: authz.ListProjects, Resource: sc.Project(n), Project: n}
	})
}

// visibleKeys keeps the keys p may list (capstan:ListKeys on each key's
// ARN, with its project).
func (s *Service) visibleKeys(ctx context.Context, p Principal, list []store.Secret) ([]store.Secret, error) {
	return visible(ctx, s, p, list, func(sc authz.Scope, k store.Secret) authz.Request {
		return authz.Request{Action: authz.ListKeys, Resource: sc.Key(k.Path), Project: store.ProjectOf(k.Project)}
	})
}

// visibleDocuments keeps the documents p may list (ssm:ListDocuments on
// each document's ARN, with its creator as capstan:Owner).
func (s *Service) visibleDocuments(ctx context.Context, p Principal, list []store.Document) ([]store.Document, error) {
	return visible(ctx, s, p, list, func(sc authz.Scope, d store.Document) authz.Request {
		return authz.Request{Action: authz.ListDocuments, Resource: sc.Document(d.Name), Owner: d.Tags[CreatedByTag], Project: store.ProjectOf(d.Project)}
	})
}

// creatorTags are a new document's tags: the caller's, with CreatedByTag
// naming the API user who creates it. A caller may not set capstan: tags
// itself, so no one can claim another's document.
func creatorTags(p Principal, in map[string]string) (map[string]string, error) {
	tags := make(map[string]string, len(in)+1)
	for k, v := range in {
		if strings.HasPrefix(strings.ToLower(k), "capstan:") {
			return nil, newError(CodeValidation, "tag key %q: keys starting with capstan: are reserved", k)
		}
		tags[k] = v
	}
	if p.ARN != "" {
		tags[CreatedByTag] = p.Name
	}
	if len(tags) == 0 {
		return nil, nil
	}
	return tags, nil
}

// userName is the user name in an ExecutedBy: the name at the end of an
// IAM user ARN, or the value itself.
func userName(executedBy string) string {
	if _, name, ok := strings.Cut(executedBy, ":user/"); ok {
		return name
	}
	return executedBy
}
