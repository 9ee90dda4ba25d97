package ssmapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/capstan-run/capstan/internal/service"
)

// Users checks access keys against the users of the service.
type Users struct {
	Service *service.Service
}

// Secret implements Credentials.
func (u Users) Secret(ctx context.Context, accessKeyID string) (Identity, string, error) {
	p, secret, err := u.Service.AccessKeySecret(ctx, accessKeyID)
	if errors.Is(err, service.ErrUnknownKey) {
		return Identity{}, "", fmt.Errorf("%w: %w", ErrUnknownKey, err)
	}
	if err != nil {
		return Identity{}, "", err
	}
	return Identity{Name: p.Name, ARN: p.ARN}, secret, nil
}
