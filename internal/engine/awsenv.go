package engine

import "context"

// awsEnver is implemented by an AWS caller that can hand its identity, region
// and endpoint to a subprocess as standard AWS environment variables
// (awsapi.Client does).
type awsEnver interface {
	AWSEnv(ctx context.Context) ([]string, error)
}

// awsEnv is action.Request.Env: the environment of the execution's AWS
// caller, made on first use like the caller itself. Nil without AWS access.
func (r *run) awsEnv(ctx context.Context) ([]string, error) {
	l, ok := r.invoker.(*lazyInvoker)
	if !ok {
		return nil, nil
	}
	l.once.Do(func() { l.inner, l.err = l.make() })
	if l.err != nil {
		return nil, l.err
	}
	if e, ok := l.inner.(awsEnver); ok {
		return e.AWSEnv(ctx)
	}
	return nil, nil
}
