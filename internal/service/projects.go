package service

import (
	"context"
	"errors"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/config"
	"github.com/capstan-run/capstan/internal/store"
)

// CodeProjectNotFound is a project name the configuration does not define.
const CodeProjectNotFound Code = "ProjectNotFoundException"

// ProjectTag is the tag by which an SSM API caller chooses the project of a
// new document (CreateDocument) or execution (StartAutomationExecution):
// --tags Key=capstan:Project,Value=audit. It is the one capstan: tag key a
// caller may set; it is taken out of the tags stored.
const ProjectTag = "capstan:Project"

// takeProject chooses a project from the one given (a CLI flag) and the
// ProjectTag among tags, and returns the tags without it. "" means none
// was chosen.
func takeProject(project string, tags map[string]string) (string, map[string]string, error) {
	v, ok := tags[ProjectTag]
	if !ok {
		return project, tags, nil
	}
	if project != "" && v != project {
		return "", nil, newError(CodeValidation, "tag %s=%s names another project than %s", ProjectTag, v, project)
	}
	if v == "" {
		return "", nil, newError(CodeValidation, "tag %s: the value must name a project", ProjectTag)
	}
	rest := make(map[string]string, len(tags)-1)
	for k, val := range tags {
		if k != ProjectTag {
			rest[k] = val
		}
	}
	return v, rest, nil
}

// executionProject is the project an execution of a runbook of project
// docProject runs in when the caller asks for asked ("" for none): the
// runbook's own unless the caller names another. A runbook of the default
// project (the built-in library's, the account's, those stored without a
// project) may run in any project; another project's runs only there.
func (s *Service) executionProject(name, docProject, asked string) (string, error) {
	docProject = store.ProjectOf(docProject)
	if asked == "" {
		return docProject, nil
	}
	if err := s.checkProject(asked); err != nil {
		return "", err
	}
	if docProject != store.DefaultProject && asked != docProject {
		return "", newError(CodeInvalidParameters, "runbook %s belongs to project %s: it runs only there, not in project %s", name, docProject, asked)
	}
	return asked, nil
}

// Project is a project as the UI and the CLI show it: where its executions
// run and as whom. It never holds a secret: a static provider's secret
// stays in key storage, named by nothing here.
type Project struct {
	Name string
	// Credentials is the base credential provider: default, ec2, ecs,
	// static or profile (config.Providers).
	Credentials string
	// Profile is the shared-config profile of provider profile.
	Profile string
	// AccessKeyID is the access key id of provider static (not a secret).
	AccessKeyID string
	// AssumeRoles is the assume-role chain on top of the credentials, in order.
	AssumeRoles []string
	// Region is the default Region of its executions; empty when none is
	// set anywhere (then Problem says so).
	Region      string
	EndpointURL string
	// Problem is why executions of the project cannot call AWS as
	// configured (no region); empty when they can.
	Problem string
}

// ListProjects lists the projects the caller may see (capstan:GetProject on
// each project's ARN), default first.
func (s *Service) ListProjects(ctx context.Context, p Principal) ([]Project, error) {
	if err := s.authorize(ctx, p, authz.ListProjects, "*"); err != nil {
		return nil, err
	}
	names, err := s.visibleProjects(ctx, p, s.projects.Names())
	if err != nil {
		return nil, err
	}
	out := make([]Project, 0, len(names))
	for _, n := range names {
		out = append(out, s.describeProject(n))
	}
	return out, nil
}

// Project describes one project; CodeProjectNotFound names the known ones.
func (s *Service) Project(ctx context.Context, p Principal, name string) (Project, error) {
	if err := s.projects.Check(name); err != nil {
		return Project{}, &Error{Code: CodeProjectNotFound, Message: err.Error(), Err: err}
	}
	if err := s.authorize(ctx, p, authz.GetProject, name); err != nil {
		return Project{}, err
	}
	return s.describeProject(name), nil
}

// checkProject refuses a project the configuration does not define: the
// caller's bad input.
func (s *Service) checkProject(name string) error {
	if err := s.projects.Check(name); err != nil {
		return &Error{Code: CodeValidation, Message: err.Error(), Err: err}
	}
	return nil
}

// projectRegion is the Region executions of project run in; "" when none
// is set anywhere.
func (s *Service) projectRegion(project string) string {
	if s.projects.Config == nil {
		// No configuration: the engine's own Region (a test, a bare service).
		return s.region
	}
	prof, _ := s.projects.Resolve(project)
	return prof.Region
}

func (s *Service) describeProject(name string) Project {
	out := Project{Name: name}
	prof, err := s.projects.Resolve(name)
	if errors.Is(err, config.ErrNoRegion) {
		// Everything but the region resolved: show it, with the problem.
		out.Problem = err.Error()
	} else if err != nil {
		out.Problem = err.Error()
		return out
	}
	out.Credentials = prof.Credentials.Provider
	out.Profile = prof.Credentials.Profile
	out.AccessKeyID = prof.Credentials.AccessKeyID
	for _, r := range prof.AssumeRoles {
		out.AssumeRoles = append(out.AssumeRoles, r.ARN)
	}
	out.Region = prof.Region
	out.EndpointURL = prof.EndpointURL
	return out
}
