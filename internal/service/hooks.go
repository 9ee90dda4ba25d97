package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/store"
)

// The changes to users' policies, webhooks and schedules: each is
// authorized and audited here, whichever front end asks.

// PutUserPolicy sets the policy document user (a user, webhook/NAME or
// schedule/NAME) acts under.
func (s *Service) PutUserPolicy(ctx context.Context, p Principal, user string, doc []byte) (err error) {
	defer func() { s.record(ctx, p, authz.UpdateUserPolicy, s.scope().User(user), "", err) }()
	if err := s.authorize(ctx, p, authz.UpdateUserPolicy, user); err != nil {
		return err
	}
	ps, ok := s.store.(store.Policies)
	if !ok {
		return fmt.Errorf("setting the policy of %s: this store keeps no policies", user)
	}
	if err := ps.PutPolicy(ctx, user, doc); err != nil {
		return fmt.Errorf("storing the policy of %s: %w", user, err)
	}
	return nil
}

func (s *Service) webhooks() (store.Webhooks, error) {
	w, ok := s.store.(store.Webhooks)
	if !ok {
		return nil, errors.New("this store keeps no webhooks")
	}
	return w, nil
}

func (s *Service) schedules() (store.Schedules, error) {
	sc, ok := s.store.(store.Schedules)
	if !ok {
		return nil, errors.New("this store keeps no schedules")
	}
	return sc, nil
}

// notFound maps the store's miss of a named record to the error users see.
func notFound(kind, name string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Code: CodeUserNotFound, Message: fmt.Sprintf("no %s %s", kind, name), Err: err}
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", kind, name, err)
	}
	return nil
}

// CreateWebhook stores a webhook (w.TokenHash set by the caller, who shows
// the token once) with the policy it acts under.
func (s *Service) CreateWebhook(ctx context.Context, p Principal, w store.Webhook, policy []byte) (err error) {
	defer func() { s.record(ctx, p, authz.CreateWebhook, s.scope().Webhook(w.Name), w.Document, err) }()
	if err := s.hookProject(w.Project); err != nil {
		return err
	}
	if err := s.authorizeIn(ctx, p, authz.CreateWebhook, w.Name, w.Project); err != nil {
		return err
	}
	hooks, err := s.webhooks()
	if err != nil {
		return err
	}
	if err := hooks.CreateWebhook(ctx, w); errors.Is(err, store.ErrExists) {
		return &Error{Code: CodeUserExists, Message: fmt.Sprintf("webhook %s exists", w.Name), Err: err}
	} else if err != nil {
		return fmt.Errorf("storing webhook %s: %w", w.Name, err)
	}
	ps, ok := s.store.(store.Policies)
	if !ok {
		return fmt.Errorf("webhook %s was created but this store keeps no policies", w.Name)
	}
	if err := ps.PutPolicy(ctx, WebhookPrincipal(s.account, w.Name).Name, policy); err != nil {
		return fmt.Errorf("webhook %s was created but its policy was not stored: %w", w.Name, err)
	}
	return nil
}

// SetWebhookToken replaces a webhook's token hash: the old token stops
// working.
func (s *Service) SetWebhookToken(ctx context.Context, p Principal, name string, hash []byte) (err error) {
	defer func() { s.record(ctx, p, authz.UpdateWebhook, s.scope().Webhook(name), "", err) }()
	if err := s.authorize(ctx, p, authz.UpdateWebhook, name); err != nil {
		return err
	}
	hooks, err := s.webhooks()
	if err != nil {
		return err
	}
	return notFound("webhook", name, hooks.SetWebhookToken(ctx, name, hash))
}

// DeleteWebhook deletes a webhook; its URL answers 404 from then on.
func (s *Service) DeleteWebhook(ctx context.Context, p Principal, name string) (err error) {
	defer func() { s.record(ctx, p, authz.DeleteWebhook, s.scope().Webhook(name), "", err) }()
	if err := s.authorize(ctx, p, authz.DeleteWebhook, name); err != nil {
		return err
	}
	hooks, err := s.webhooks()
	if err != nil {
		return err
	}
	return notFound("webhook", name, hooks.DeleteWebhook(ctx, name))
}

// CreateSchedule stores a schedule whose expression and next run the
// caller has checked.
func (s *Service) CreateSchedule(ctx context.Context, p Principal, sch store.Schedule) (err error) {
	defer func() { s.record(ctx, p, authz.CreateSchedule, s.scope().Schedule(sch.Name), sch.Document, err) }()
	if err := s.hookProject(sch.Project); err != nil {
		return err
	}
	if err := s.authorizeIn(ctx, p, authz.CreateSchedule, sch.Name, sch.Project); err != nil {
		return err
	}
	list, err := s.schedules()
	if err != nil {
		return err
	}
	if err := list.CreateSchedule(ctx, sch); errors.Is(err, store.ErrExists) {
		return &Error{Code: CodeUserExists, Message: fmt.Sprintf("schedule %s exists", sch.Name), Err: err}
	} else if err != nil {
		return fmt.Errorf("storing schedule %s: %w", sch.Name, err)
	}
	return nil
}

// PauseSchedule pauses a schedule, or resumes it with its next run at next.
func (s *Service) PauseSchedule(ctx context.Context, p Principal, name string, paused bool, next time.Time) (err error) {
	detail := "resume"
	if paused {
		detail = "pause"
	}
	defer func() { s.record(ctx, p, authz.UpdateSchedule, s.scope().Schedule(name), detail, err) }()
	if err := s.authorize(ctx, p, authz.UpdateSchedule, name); err != nil {
		return err
	}
	list, err := s.schedules()
	if err != nil {
		return err
	}
	return notFound("schedule", name, list.PauseSchedule(ctx, name, paused, next))
}

// DeleteSchedule deletes a schedule; no run of it starts from then on.
func (s *Service) DeleteSchedule(ctx context.Context, p Principal, name string) (err error) {
	defer func() { s.record(ctx, p, authz.DeleteSchedule, s.scope().Schedule(name), "", err) }()
	if err := s.authorize(ctx, p, authz.DeleteSchedule, name); err != nil {
		return err
	}
	list, err := s.schedules()
	if err != nil {
		return err
	}
	return notFound("schedule", name, list.DeleteSchedule(ctx, name))
}

// hookProject checks the project a webhook or schedule names for its
// executions; "" (the runbook's own) needs no check.
func (s *Service) hookProject(project string) error {
	if project == "" {
		return nil
	}
	return s.checkProject(project)
}
