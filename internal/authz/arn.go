package authz

import "strings"

// The actions capstan authorizes. SSM's keep SSM's names so that policies
// written for SSM read the same here; capstan's own are under capstan:.
const (
	StartAutomationExecution         = "ssm:StartAutomationExecution"
	GetAutomationExecution           = "ssm:GetAutomationExecution"
	DescribeAutomationExecutions     = "ssm:DescribeAutomationExecutions"
	DescribeAutomationStepExecutions = "ssm:DescribeAutomationStepExecutions"
	StopAutomationExecution          = "ssm:StopAutomationExecution"
	SendAutomationSignal             = "ssm:SendAutomationSignal"
	CreateDocument                   = "ssm:CreateDocument"
	UpdateDocument                   = "ssm:UpdateDocument"
	UpdateDocumentDefaultVersion     = "ssm:UpdateDocumentDefaultVersion"
	DeleteDocument                   = "ssm:DeleteDocument"
	GetDocument                      = "ssm:GetDocument"
	DescribeDocument                 = "ssm:DescribeDocument"
	ListDocuments                    = "ssm:ListDocuments"
	ListDocumentVersions             = "ssm:ListDocumentVersions"
	StartExecutionPreview            = "ssm:StartExecutionPreview"

	CreateUser       = "capstan:CreateUser"
	DeleteUser       = "capstan:DeleteUser"
	ListUsers        = "capstan:ListUsers"
	UpdateUserPolicy = "capstan:UpdateUserPolicy"
	// UpdateLoginProfile sets a user's web UI password (IAM's name for it).
	UpdateLoginProfile = "capstan:UpdateLoginProfile"
	PutKey             = "capstan:PutKey"
	ReadKey            = "capstan:ReadKey" // resolve key:PATH in a runbook
	DeleteKey          = "capstan:DeleteKey"
	ListKeys           = "capstan:ListKeys"
	RotateMasterKey    = "capstan:RotateMasterKey" // re-seal every key under a new master key
	ReadAudit          = "capstan:ReadAudit"
	ListProjects       = "capstan:ListProjects" // on each project's ARN, for the listing
	GetProject         = "capstan:GetProject"
	ListNodes          = "capstan:ListNodes" // the EC2 node inventory, for pickers
	CreateWebhook      = "capstan:CreateWebhook"
	UpdateWebhook      = "capstan:UpdateWebhook" // a new token
	DeleteWebhook      = "capstan:DeleteWebhook"
	CreateSchedule     = "capstan:CreateSchedule"
	UpdateSchedule     = "capstan:UpdateSchedule" // pause, resume
	DeleteSchedule     = "capstan:DeleteSchedule"
)

// Scope builds the ARNs of one capstan server: SSM's forms for documents,
// automation definitions and executions, capstan's own (partition capstan,
// so that arn:aws:* grants never reach them) for projects, keys, users and
// the audit log.
type Scope struct {
	Region  string
	Account string
}

func (s Scope) ssm(resource string) string {
	return "arn:aws:ssm:" + s.Region + ":" + s.Account + ":" + resource
}

// Document is the ARN of a document: arn:aws:ssm:R:A:document/NAME.
func (s Scope) Document(name string) string { return s.ssm("document/" + name) }

// AutomationDefinition is the ARN StartAutomationExecution is authorized
// on: arn:aws:ssm:R:A:automation-definition/NAME:VERSION, VERSION being a
// number, $DEFAULT or $LATEST as the caller asked.
func (s Scope) AutomationDefinition(name, version string) string {
	if version == "" {
		version = "$DEFAULT"
	}
	return s.ssm("automation-definition/" + name + ":" + version)
}

// Execution is the ARN of an execution: arn:aws:ssm:R:A:automation-execution/ID.
func (s Scope) Execution(id string) string { return s.ssm("automation-execution/" + id) }

// capstan's own resources belong to the server, not a region, as IAM's
// belong to the account.
func (s Scope) capstan(resource string) string {
	return "arn:capstan:capstan::" + s.Account + ":" + resource
}

// Project is arn:capstan:capstan::A:project/NAME.
func (s Scope) Project(name string) string { return s.capstan("project/" + name) }

// Key is the ARN of a key storage path, arn:capstan:capstan::A:key/PATH
// (the path without its leading slash).
func (s Scope) Key(path string) string { return s.capstan("key/" + strings.TrimPrefix(path, "/")) }

// User is the ARN of a capstan user as a resource of user management.
func (s Scope) User(name string) string { return s.capstan("user/" + name) }

// Webhook is arn:capstan:capstan::A:webhook/NAME.
func (s Scope) Webhook(name string) string { return s.capstan("webhook/" + name) }

// Schedule is arn:capstan:capstan::A:schedule/NAME.
func (s Scope) Schedule(name string) string { return s.capstan("schedule/" + name) }

// Audit is the ARN of the audit log.
func (s Scope) Audit() string { return s.capstan("audit") }
