package ssmapi

import (
	"context"

	"github.com/capstan-run/capstan/internal/ssmshape"
	"github.com/capstan-run/capstan/internal/store"
)

// ListAuditRecords is capstan's own operation (AmazonSSM.ListAuditRecords):
// the audit log, for callers whose policy allows capstan:ReadAudit.
type listAuditInput struct {
	AfterSeq   int64
	User       string
	MaxResults int
}

type auditRecord struct {
	Seq      int64
	Time     *ssmshape.Time
	User     string
	Action   string
	Resource string
	Result   string
	Source   string
	Detail   string `json:",omitempty"`
}

type listAuditOutput struct {
	Records []auditRecord
}

func listAuditRecords(s *Server, ctx context.Context, in *listAuditInput) (*listAuditOutput, error) {
	if in.MaxResults < 0 || in.MaxResults > 1000 || in.AfterSeq < 0 {
		return nil, validationError("MaxResults takes 1 to 1000 and AfterSeq 0 or more")
	}
	recs, err := s.opts.Service.ListAudit(ctx, principal(ctx), store.AuditQuery{AfterSeq: in.AfterSeq, User: in.User, Limit: in.MaxResults})
	if err != nil {
		return nil, err
	}
	out := &listAuditOutput{Records: []auditRecord{}}
	for _, r := range recs {
		out.Records = append(out.Records, auditRecord{Seq: r.Seq, Time: epochOf(r.Time), User: r.User, Action: r.Action,
			Resource: r.Resource, Result: r.Result, Source: r.Source, Detail: r.Detail})
	}
	return out, nil
}
