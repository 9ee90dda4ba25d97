package service

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/targets"
)

// nodesTTL is how long the node inventory is reused: a form that offers
// instances need not call DescribeInstances on every page view.
const nodesTTL = 30 * time.Second

// nodeCache keeps the last inventory read from EC2.
type nodeCache struct {
	mu    sync.Mutex
	nodes []targets.Node
	read  time.Time
}

// Nodes lists the EC2 instances of the node inventory (DescribeInstances in
// the server's account, with its own credentials), for pickers such as the
// UI's instance id field. The caller needs capstan:ListNodes. The answer
// may be up to half a minute old; a failure to read it is returned, not
// kept.
func (s *Service) Nodes(ctx context.Context, p Principal) ([]targets.Node, error) {
	if err := s.authorize(ctx, p, authz.ListNodes, "*"); err != nil {
		return nil, err
	}
	c := &s.nodes
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nodes != nil && time.Since(c.read) < nodesTTL {
		return c.nodes, nil
	}
	if s.catalog.Account == nil {
		return nil, fmt.Errorf("listing EC2 instances: capstan has no AWS account configured")
	}
	inv, err := s.catalog.Account(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing EC2 instances: %w", err)
	}
	nodes, err := targets.Nodes(ctx, inv, nil, s.region)
	if err != nil {
		return nil, err
	}
	if nodes == nil {
		nodes = []targets.Node{}
	}
	c.nodes, c.read = nodes, time.Now()
	return nodes, nil
}
