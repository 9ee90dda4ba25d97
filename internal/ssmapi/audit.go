package ssmapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/capstan-run/capstan/internal/authz"
	"github.com/capstan-run/capstan/internal/ssmshape"
	"github.com/capstan-run/capstan/internal/store"
)

// auditedOps are the operations that change something, with the IAM action
// each is recorded under. Reads are not audited.
var auditedOps = map[string]string{
	"CreateDocument":               authz.CreateDocument,
	"UpdateDocument":               authz.UpdateDocument,
	"UpdateDocumentDefaultVersion": authz.UpdateDocumentDefaultVersion,
	"DeleteDocument":               authz.DeleteDocument,
	"StartAutomationExecution":     authz.StartAutomationExecution,
	"StopAutomationExecution":      authz.StopAutomationExecution,
	"SendAutomationSignal":         authz.SendAutomationSignal,
}

// scope is the ARN builder for this server's resources.
func (s *Server) scope() authz.Scope {
	return authz.Scope{Region: s.opts.Region, Account: s.opts.Service.AccountID()}
}

// audit records one call of an operation that changes something, whether
// it succeeded or was refused. A failure to record is logged as an error:
// the change itself has already happened or been refused.
func (s *Server) audit(ctx context.Context, r *http.Request, op string, ident Identity, body []byte, out any, callErr error) {
	action, ok := auditedOps[op]
	if !ok || s.opts.Audit == nil {
		return
	}
	var in struct {
		Name, DocumentName, DocumentVersion, AutomationExecutionId string
	}
	_ = json.Unmarshal(body, &in) // a body that is not JSON was refused; its fields stay empty
	sc := s.scope()
	rec := store.AuditRecord{User: ident.Name, Action: action, Source: r.RemoteAddr, Result: "Success"}
	switch op {
	case "StartAutomationExecution":
		rec.Resource = sc.AutomationDefinition(in.DocumentName, in.DocumentVersion)
		if o, ok := out.(*startOutput); ok {
			rec.Detail = o.AutomationExecutionId
		}
	case "StopAutomationExecution", "SendAutomationSignal":
		rec.Resource = sc.Execution(in.AutomationExecutionId)
	default:
		rec.Resource = sc.Document(in.Name)
	}
	if callErr != nil {
		rec.Result = asError(callErr).Type
	}
	if _, err := s.opts.Audit.AppendAudit(context.WithoutCancel(ctx), rec); err != nil {
		s.opts.Logger.Error("ssm api: the audit record of a call was not stored", "operation", op, "user", ident.Name, "resource", rec.Resource, "result", rec.Result, "err", err)
	}
}

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
