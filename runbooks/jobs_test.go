package runbooks

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/document"
	"github.com/capstan-run/capstan/internal/engine"
)

func TestAthenaQuery(t *testing.T) {
	m := newMoto(t)
	m.call("s3", "CreateBucket", map[string]any{"Bucket": "athena-results"})
	// moto does not run SQL: its control API queues the rows the next
	// GetQueryResults answers with.
	rows := map[string]any{"results": []any{map[string]any{
		"rows": []any{
			map[string]any{"Data": []any{map[string]any{"VarCharValue": "status"}, map[string]any{"VarCharValue": "n"}}},
			map[string]any{"Data": []any{map[string]any{"VarCharValue": "200"}, map[string]any{"VarCharValue": "41"}}},
			map[string]any{"Data": []any{map[string]any{"VarCharValue": "500"}, map[string]any{"VarCharValue": "3"}}},
		},
		"column_info": []any{map[string]any{"Name": "status", "Type": "varchar"}, map[string]any{"Name": "n", "Type": "bigint"}},
	}}}
	body, _ := json.Marshal(rows)
	resp, err := http.Post(m.url+"/moto-api/static/athena/query-results", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("queueing athena results: %s", resp.Status)
	}

	st := m.run("Capstan-AthenaQuery", "QueryString=SELECT status, count(*) AS n FROM requests GROUP BY status",
		"OutputLocation=s3://athena-results/q/")
	m.success(st)
	if got := st.Outputs["getResults.Values"]; !slices.Equal(got, []string{"status", "n", "200", "41", "500", "3"}) {
		t.Errorf("Values = %v", got)
	}
	if got := st.Outputs["getResults.Columns"]; !slices.Equal(got, []string{"status", "n"}) {
		t.Errorf("Columns = %v", got)
	}
	if got := st.Outputs["getResults.Rows"]; len(got) != 3 {
		t.Errorf("Rows = %v, want 3 rows", got)
	}
	id := st.Outputs["startQuery.QueryExecutionId"]
	if len(id) != 1 {
		t.Fatalf("QueryExecutionId = %v", id)
	}
	q := m.call("athena", "GetQueryExecution", map[string]any{"QueryExecutionId": id[0]})
	if got := dig(q, "QueryExecution", "Query"); got != "SELECT status, count(*) AS n FROM requests GROUP BY status" {
		t.Errorf("Athena ran %v", got)
	}
	if got := dig(q, "QueryExecution", "ResultConfiguration", "OutputLocation"); got == nil || !strings.HasPrefix(got.(string), "s3://athena-results/q/") {
		t.Errorf("OutputLocation %v", got)
	}

	// A bad output location is refused before anything is called.
	doc := load(t, "Capstan-AthenaQuery")
	if _, err := doc.Coerce(document.Inputs{Flags: []string{"QueryString=SELECT 1", "OutputLocation=athena-results"}}); err == nil || !strings.Contains(err.Error(), "OutputLocation") {
		t.Errorf("OutputLocation without s3://: err %v, want one naming the parameter", err)
	}
}

func TestCreateLogStream(t *testing.T) {
	m := newMoto(t)
	// Without CreateLogGroup a missing group fails the execution.
	st := m.run("Capstan-CreateLogStream", "LogGroupName=/jobs/nightly", "LogStreamName=run-1")
	if st.Status != "Failed" {
		t.Errorf("missing log group: status %s", st.Status)
	}
	st = m.run("Capstan-CreateLogStream", "LogGroupName=/jobs/nightly", "LogStreamName=run-1", "CreateLogGroup=true")
	m.success(st)
	arn := st.Outputs["describeStream.Arn"]
	if len(arn) != 1 || !strings.HasSuffix(arn[0], ":log-group:/jobs/nightly:log-stream:run-1") {
		t.Errorf("Arn = %v", arn)
	}
	// The group exists now: creating a second stream with CreateLogGroup
	// still succeeds.
	m.success(m.run("Capstan-CreateLogStream", "LogGroupName=/jobs/nightly", "LogStreamName=run-2", "CreateLogGroup=true"))
	out := m.call("logs", "DescribeLogStreams", map[string]any{"logGroupName": "/jobs/nightly"})
	var names []string
	for _, s := range out["logStreams"].([]any) {
		names = append(names, dig(s, "logStreamName").(string))
	}
	if !slices.Equal(names, []string{"run-1", "run-2"}) {
		t.Errorf("streams %v", names)
	}
	// The same stream again fails with CloudWatch Logs' error.
	if st := m.run("Capstan-CreateLogStream", "LogGroupName=/jobs/nightly", "LogStreamName=run-1"); st.Status != "Failed" {
		t.Errorf("duplicate stream: status %s", st.Status)
	}
}

func TestCreateInstanceFromSnapshot(t *testing.T) {
	m := newMoto(t)
	vol := m.volume()
	snap := m.call("ec2", "CreateSnapshot", map[string]any{"VolumeId": vol})["SnapshotId"].(string)
	st := m.run("Capstan-CreateInstanceFromSnapshot", "SnapshotId="+snap, "InstanceType=t3.small")
	m.success(st)
	img := st.Outputs["registerImage.ImageId"]
	inst := st.Outputs["launchInstance.InstanceId"]
	if len(img) != 1 || len(inst) != 1 {
		t.Fatalf("outputs %v", st.Outputs)
	}
	// moto registers the image but keeps no block device mapping of its
	// own, so the snapshot is checked in the request capstan recorded.
	images := m.call("ec2", "DescribeImages", map[string]any{"ImageIds": []any{img[0]}})
	if got := dig(images, "Images", 0, "Name"); got == nil || !strings.HasPrefix(got.(string), snap+"_") {
		t.Errorf("image name %v, want the snapshot and the execution id", got)
	}
	if got := dig(st.Steps[0].Inputs, "BlockDeviceMappings", 0, "Ebs", "SnapshotId"); got != snap {
		t.Errorf("RegisterImage's root snapshot %v, want %s", got, snap)
	}
	out := m.call("ec2", "DescribeInstances", map[string]any{"InstanceIds": []any{inst[0]}})
	i := dig(out, "Reservations", 0, "Instances", 0)
	if got := dig(i, "ImageId"); got != img[0] {
		t.Errorf("instance runs %v, want %s", got, img[0])
	}
	if got := dig(i, "InstanceType"); got != "t3.small" {
		t.Errorf("instance type %v", got)
	}
	if got := dig(i, "State", "Name"); got != "running" {
		t.Errorf("instance %v", got)
	}
}

func (m *moto) vpc(cidr string) string {
	return dig(m.call("ec2", "CreateVpc", map[string]any{"CidrBlock": cidr}), "Vpc", "VpcId").(string)
}

func TestEnableVPCFlowLogs(t *testing.T) {
	m := newMoto(t)
	vpc := m.vpc("10.1.0.0/16")
	m.call("logs", "CreateLogGroup", map[string]any{"logGroupName": "/vpc/flow"})
	m.role("flow-logs")
	role := "arn:aws:iam::123456789012:role/flow-logs"
	st := m.run("Capstan-EnableVPCFlowLogs", "VpcId="+vpc, "LogGroupName=/vpc/flow", "DeliverLogsPermissionArn="+role, "TrafficType=REJECT")
	m.success(st)
	id := st.Outputs["createFlowLogs.FlowLogId"]
	if len(id) != 1 || !strings.HasPrefix(id[0], "fl-") {
		t.Fatalf("FlowLogId = %v", id)
	}
	fl := dig(m.call("ec2", "DescribeFlowLogs", map[string]any{"FlowLogIds": []any{id[0]}}), "FlowLogs", 0)
	for k, want := range map[string]string{"ResourceId": vpc, "LogGroupName": "/vpc/flow", "TrafficType": "REJECT", "DeliverLogsPermissionArn": role} {
		if got := dig(fl, k); got != want {
			t.Errorf("flow log %s = %v, want %s", k, got, want)
		}
	}
	// The same flow log again is refused by EC2 (in Unsuccessful, not as an
	// error): the execution fails rather than claiming success.
	if st := m.run("Capstan-EnableVPCFlowLogs", "VpcId="+vpc, "LogGroupName=/vpc/flow", "DeliverLogsPermissionArn="+role, "TrafficType=REJECT"); st.Status != "Failed" {
		t.Errorf("duplicate flow log: status %s", st.Status)
	}
}

func TestCreateVPCPeering(t *testing.T) {
	m := newMoto(t)
	a, b := m.vpc("10.1.0.0/16"), m.vpc("10.2.0.0/16")
	cfg, err := awsapi.LoadConfig(context.Background(), awsapi.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Region = "us-west-2"
	west := awsapi.New(cfg, awsapi.Options{})
	out, err := west.Invoke(context.Background(), "ec2", "CreateVpc", map[string]any{"CidrBlock": "10.3.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	c := dig(out, "Vpc", "VpcId").(string)
	status := func(id string) any {
		out := m.call("ec2", "DescribeVpcPeeringConnections", map[string]any{"VpcPeeringConnectionIds": []any{id}})
		return dig(out, "VpcPeeringConnections", 0, "Status", "Code")
	}
	// Both VPCs are the caller's, in this region: accepted.
	st := m.run("Capstan-CreateVPCPeering", "VpcId="+a, "PeerVpcId="+b)
	m.success(st)
	id := st.Outputs["createPeering.VpcPeeringConnectionId"]
	if len(id) != 1 {
		t.Fatalf("outputs %v", st.Outputs)
	}
	if s := status(id[0]); s != "active" {
		t.Errorf("own peering is %v, want active", s)
	}
	if got := st.Outputs["describePeering.Status"]; !slices.Equal(got, []string{"active"}) {
		t.Errorf("Status output %v", got)
	}
	// A peer in another region is requested and left for acceptance there.
	st = m.run("Capstan-CreateVPCPeering", "VpcId="+a, "PeerVpcId="+c, "PeerOwnerId=123456789012", "PeerRegion=us-west-2")
	m.success(st)
	id = st.Outputs["createPeering.VpcPeeringConnectionId"]
	if len(id) != 1 {
		t.Fatalf("outputs %v", st.Outputs)
	}
	if s := status(id[0]); s == "active" {
		t.Errorf("peering to another region was accepted by the requester")
	}
	for _, s := range st.Steps {
		if s.Name == "acceptPeering" {
			t.Errorf("acceptPeering ran for another region's VPC")
		}
	}
}

// ecsThroughFixer sends ECS calls through a proxy in front of moto that
// rewrites one moto quirk: moto answers a task's containers[].cpu and
// .memory as JSON numbers where ECS's model (and ECS) has strings, which
// capstan's model-driven decoder rightly refuses.
func (m *moto) ecsThroughFixer() {
	target, err := url.Parse(m.url)
	if err != nil {
		m.t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return err
		}
		var doc map[string]any
		if json.Unmarshal(b, &doc) == nil {
			var tasks []any
			if l, ok := doc["tasks"].([]any); ok {
				tasks = l
			}
			if one, ok := doc["task"]; ok {
				tasks = append(tasks, one)
			}
			for _, task := range tasks {
				cs, _ := dig(task, "containers").([]any)
				for _, c := range cs {
					c := c.(map[string]any)
					for _, k := range []string{"cpu", "memory", "memoryReservation"} {
						if n, ok := c[k].(float64); ok {
							c[k] = strconv.FormatFloat(n, 'f', -1, 64)
						}
					}
				}
			}
			b, _ = json.Marshal(doc)
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		r.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	srv := httptest.NewServer(proxy)
	m.t.Cleanup(srv.Close)
	m.t.Setenv("AWS_ENDPOINT_URL_ECS", srv.URL)
}

// ecsTask starts a task of a one-container task definition on a new
// cluster with a container instance, returning the task's ARN.
func (m *moto) ecsTask(cluster string, n int) []string {
	m.ecsThroughFixer()
	m.call("ecs", "CreateCluster", map[string]any{"clusterName": cluster})
	m.call("ecs", "RegisterTaskDefinition", map[string]any{"family": "web", "cpu": "256", "memory": "512", "containerDefinitions": []any{
		map[string]any{"name": "app", "image": "nginx", "memory": 128, "essential": true},
	}})
	inst := m.instance()
	doc := `{"accountId":"123456789012","architecture":"x86_64","availabilityZone":"us-east-1a","imageId":"ami-12345678","instanceId":"` + inst + `","instanceType":"t3.micro","region":"us-east-1"}`
	m.call("ecs", "RegisterContainerInstance", map[string]any{"cluster": cluster, "instanceIdentityDocument": doc})
	out := m.call("ecs", "RunTask", map[string]any{"cluster": cluster, "taskDefinition": "web", "count": n, "startedBy": "ecs-svc/web"})
	var arns []string
	for _, task := range out["tasks"].([]any) {
		arns = append(arns, dig(task, "taskArn").(string))
	}
	if len(arns) != n {
		m.t.Fatalf("RunTask started %d tasks, want %d", len(arns), n)
	}
	return arns
}

func TestECSStopTask(t *testing.T) {
	m := newMoto(t)
	arn := m.ecsTask("prod", 1)[0]
	st := m.run("Capstan-ECSStopTask", "Cluster=prod", "Task="+arn, "Reason=rolling back 1.4")
	m.success(st)
	if got := st.Outputs["describeTask.LastStatus"]; !slices.Equal(got, []string{"STOPPED"}) {
		t.Errorf("LastStatus %v", got)
	}
	task := dig(m.call("ecs", "DescribeTasks", map[string]any{"cluster": "prod", "tasks": []any{arn}}), "tasks", 0)
	if got := dig(task, "stoppedReason"); got != "rolling back 1.4" {
		t.Errorf("stoppedReason %v", got)
	}
	// An unknown task is not tried here: moto answers it with an HTTP 500
	// (a Python exception), which capstan rightly retries as a server fault.
}

func TestECSStoppedTaskErrors(t *testing.T) {
	m := newMoto(t)
	arns := m.ecsTask("prod", 3)
	m.call("ecs", "CreateService", map[string]any{"cluster": "prod", "serviceName": "web", "taskDefinition": "web", "desiredCount": 0})

	// Nothing stopped yet: the execution ends at the check, successfully.
	st := m.run("Capstan-ECSStoppedTaskErrors", "Cluster=prod", "ServiceName=web")
	m.success(st)
	for _, s := range st.Steps {
		if s.Name == "describeTasks" {
			t.Errorf("describeTasks ran with no stopped task")
		}
	}

	m.call("ecs", "StopTask", map[string]any{"cluster": "prod", "task": arns[0], "reason": "Essential container in task exited"})
	m.call("ecs", "StopTask", map[string]any{"cluster": "prod", "task": arns[2], "reason": "OutOfMemoryError: Container killed"})
	st = m.run("Capstan-ECSStoppedTaskErrors", "Cluster=prod", "ServiceName=web")
	m.success(st)
	// moto lists a cluster's tasks without filtering by serviceName, so
	// this shows the status filter and the reasons, not the service filter.
	got := st.Outputs["describeTasks.TaskArns"]
	slices.Sort(got)
	want := []string{arns[0], arns[2]}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("TaskArns %v, want the stopped %v", got, want)
	}
	reasons := st.Outputs["describeTasks.StoppedReasons"]
	slices.Sort(reasons)
	if !slices.Equal(reasons, []string{"Essential container in task exited", "OutOfMemoryError: Container killed"}) {
		t.Errorf("StoppedReasons %v", reasons)
	}
}

// TestECSExecuteCommand runs against a small server speaking ECS's JSON
// protocol: moto has no ExecuteCommand.
func TestECSExecuteCommand(t *testing.T) {
	m := newMoto(t)
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if target := r.Header.Get("X-Amz-Target"); target != "AmazonEC2ContainerServiceV20141113.ExecuteCommand" {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"InvalidParameterException","message":"unexpected `+target+`"}`)
			return
		}
		b, _ := io.ReadAll(r.Body)
		got = nil
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("request body %q: %v", b, err)
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if got["task"] == "0123456789abcdef0123456789abcdef" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"InvalidParameterException","message":"The execute command failed because execute command was not enabled when the task was run"}`)
			return
		}
		io.WriteString(w, `{"clusterArn":"arn:aws:ecs:us-east-1:123456789012:cluster/prod","containerName":"app","interactive":true,`+
			`"session":{"sessionId":"ecs-execute-command-0a1b2c","streamUrl":"wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/ecs-execute-command-0a1b2c","tokenValue":"secret-token"},`+
			`"taskArn":"arn:aws:ecs:us-east-1:123456789012:task/prod/9f8e7d6c5b4a39281706f5e4d3c2b1a0"}`)
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_ECS", srv.URL)

	st := m.run("Capstan-ECSExecuteCommand", "Cluster=prod", "Task=9f8e7d6c5b4a39281706f5e4d3c2b1a0", "Container=app", "Command=df -h")
	m.success(st)
	for k, want := range map[string]any{"cluster": "prod", "task": "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "container": "app", "command": "df -h", "interactive": true} {
		if got[k] != want {
			t.Errorf("request %s = %v, want %v", k, got[k], want)
		}
	}
	if s := st.Outputs["executeCommand.SessionId"]; !slices.Equal(s, []string{"ecs-execute-command-0a1b2c"}) {
		t.Errorf("SessionId %v", s)
	}
	if s := st.Outputs["executeCommand.StreamUrl"]; len(s) != 1 || !strings.HasPrefix(s[0], "wss://") {
		t.Errorf("StreamUrl %v", s)
	}
	st = m.run("Capstan-ECSExecuteCommand", "Cluster=prod", "Task=0123456789abcdef0123456789abcdef", "Container=app", "Command=df -h")
	if st.Status != "Failed" || !strings.Contains(st.FailureMessage+stepMessages(st), "execute command was not enabled") {
		t.Errorf("ECS Exec off: status %s, message %q", st.Status, st.FailureMessage)
	}
}

// stepMessages joins the failure messages of an execution's steps.
func stepMessages(st *engine.State) string {
	var b strings.Builder
	for _, s := range st.Steps {
		b.WriteString(s.FailureMessage + "\n")
	}
	return b.String()
}
