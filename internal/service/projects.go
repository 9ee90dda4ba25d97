package service

import (
	"context"
	"errors"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/config"
)

// CodeProjectNotFound is a project name the configuration does not define.
const CodeProjectNotFound Code = "ProjectNotFoundException"

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
	if err := s.checkProject(name); err != nil {
		return Project{}, err
	}
	if err := s.authorize(ctx, p, authz.GetProject, name); err != nil {
		return Project{}, err
	}
	return s.describeProject(name), nil
}

// checkProject refuses a project the configuration does not define.
func (s *Service) checkProject(name string) error {
	if err := s.projects.Check(name); err != nil {
		return &Error{Code: CodeProjectNotFound, Message: err.Error(), Err: err}
	}
	return nil
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
