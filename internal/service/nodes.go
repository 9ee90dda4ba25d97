package service

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/store"
	"github.com/capstan-run/capstan/internal/targets"
)

// nodesTTL is how long the node inventory is reused: a form that offers
// instances need not call DescribeInstances on every page view.
const nodesTTL = 30 * time.Second

// nodeCache keeps the last inventory read from EC2, by project.
type nodeCache struct {
	mu   sync.Mutex
	read map[string]nodesRead
}

type nodesRead struct {
	nodes []targets.Node
	at    time.Time
}

// Nodes lists the EC2 instances of a project's node inventory
// (DescribeInstances in its account and Region, with its credentials and
// roles, as its executions call AWS), for pickers such as the UI's instance
// id field. The caller needs capstan:ListNodes on the project. The answer
// may be up to half a minute old; a failure to read it is returned, not
// kept.
func (s *Service) Nodes(ctx context.Context, p Principal, project string) ([]targets.Node, error) {
	project = store.ProjectOf(project)
	if err := s.checkProject(project); err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, authz.ListNodes, project); err != nil {
		return nil, err
	}
	c := &s.nodes
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.read[project]; ok && time.Since(r.at) < nodesTTL {
		return r.nodes, nil
	}
	inv, err := s.projectInvoker(ctx, project)
	if err != nil {
		return nil, fmt.Errorf("listing EC2 instances of project %s: %w", project, err)
	}
	region := s.projectRegion(project)
	nodes, err := targets.Nodes(ctx, inv, nil, region)
	if err != nil {
		return nil, err
	}
	if nodes == nil {
		nodes = []targets.Node{}
	}
	if c.read == nil {
		c.read = map[string]nodesRead{}
	}
	c.read[project] = nodesRead{nodes: nodes, at: time.Now()}
	return nodes, nil
}

// projectInvoker calls AWS as project's executions do; the account's own
// caller when the engine makes none (a service without per-execution
// callers).
func (s *Service) projectInvoker(ctx context.Context, project string) (action.Invoker, error) {
	if s.newInvoker != nil {
		return s.newInvoker(ctx, engine.InvokerRequest{Project: project, Region: s.projectRegion(project), Record: func(store.Call) {}})
	}
	if s.catalog.Account == nil {
		return nil, fmt.Errorf("capstan has no AWS account configured")
	}
	return s.catalog.Account(ctx)
}
